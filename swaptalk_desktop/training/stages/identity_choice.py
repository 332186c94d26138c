"""Which identity network a stage's identity loss uses: the pretrained MobileFaceNet teacher or
the encoder distilled from dlib (an ``identity`` run).

``ctx.options["identity_teacher"]``: a path to the MobileFaceNet file, or "" for "find it"
(``$SWAPTALK_IDENTITY_WEIGHTS``, else beside the repository). ``ctx.runs["identity"]``: a
distilled run. Giving both is refused. With neither, a stage that needs an identity network
(swap) takes the MobileFaceNet when it is found; an optional one (vqgan) goes without.
"""

from __future__ import annotations

from torch import nn

from ...core.errors import InputError
from ...faces.identity_net import WEIGHTS_ENV, default_weights_path, find_weights
from ..identity_teacher import identity_teacher
from .base import StageContext
from .common import load_frozen

TEACHER_OPTION = "identity_teacher"


def load_identity_network(ctx: StageContext, required: bool) -> tuple[nn.Module | None, dict]:
    """The frozen identity network on the device, and what the run records about it."""
    teacher = ctx.options.get(TEACHER_OPTION)
    has_run = ctx.runs.get("identity") is not None
    if teacher is not None and has_run:
        raise InputError("give either --identity RUN (the distilled encoder) or "
                         "--identity-teacher PATH (MobileFaceNet), not both")
    if has_run:
        return load_frozen(ctx, "identity")
    if teacher is None:
        if not required:
            return None, {}
        if find_weights() is None:
            raise InputError("this stage needs an identity network: pass --identity "
                             "RUNS/identity, or --identity-teacher PATH (MobileFaceNet; not "
                             f"found at {default_weights_path()} nor in {WEIGHTS_ENV})")
    module = identity_teacher(ctx.config.vqgan.crop_size, teacher or None, ctx.device)
    return module, dict(module.info)
