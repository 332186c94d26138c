"""Stage runners on the synthetic sets: exact round trips, swap and sync modes, batching, OOM."""

from __future__ import annotations

import numpy as np
import pytest

from swaptalk_desktop.core.errors import ModelError, ResourceError
from swaptalk_desktop.inference import LoadedSession, SessionCache, StageRunners
from swaptalk_desktop.inference.providers import CPU_EP

S = 256


def crops(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, S, S, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def cache() -> SessionCache:
    return SessionCache()


def runners_for(sets, set_id: str, cache: SessionCache, **kw) -> StageRunners:
    return StageRunners(sets[set_id], provider="cpu", cache=cache, **kw)


def test_round_trip_is_exact(synthetic_sets, cache) -> None:
    r = runners_for(synthetic_sets, "synthetic", cache)
    x = crops(5)
    latent = r.encode(x)
    assert latent.dtype == np.float32 and latent.shape == (5, 768, 16, 16)
    assert latent.min() >= -1.0 and latent.max() <= 1.0
    assert r.latent_shape == (768, 16, 16) and r.crop_size == S and r.mel_window == 16
    out = r.decode(latent)
    assert out.dtype == np.uint8 and out.shape == x.shape
    np.testing.assert_array_equal(out, x)
    assert [e.id for e in r.used_models()] == ["synthetic-encode", "synthetic-decode"]
    assert [e.id for e in r.selected_models()] == [
        "synthetic-encode", "synthetic-swap", "synthetic-sync", "synthetic-decode"]


def test_swap_source_gives_the_identity_photo(synthetic_sets, cache) -> None:
    r = runners_for(synthetic_sets, "syn-source", cache)
    frames, photo = crops(3, seed=1), crops(1, seed=2)
    source = r.encode(photo)
    swapped = r.swap(r.encode(frames), source)
    np.testing.assert_array_equal(r.decode(swapped), np.repeat(photo, 3, axis=0))
    # A [C, h, w] source works too.
    np.testing.assert_array_equal(r.swap(r.encode(frames), source[0]), swapped)
    ident = runners_for(synthetic_sets, "synthetic", cache)
    np.testing.assert_array_equal(ident.decode(ident.swap(ident.encode(frames), source)), frames)


def test_sync_reference_and_zero(synthetic_sets, cache) -> None:
    r = runners_for(synthetic_sets, "synthetic", cache)
    x = crops(4, seed=3)
    latent = r.encode(x)
    mel = np.zeros((4, 80, 16), np.float32)
    lower = r.sync(latent[:, :, :8], latent, mel)
    assert lower.shape == (4, 768, 8, 16)
    np.testing.assert_array_equal(r.decode(np.concatenate([latent[:, :, :8], lower], 2)), x)
    # One reference for all frames broadcasts.
    one = r.sync(latent[:, :, :8], latent[:1], mel)
    np.testing.assert_array_equal(one, np.repeat(latent[:1, :, 8:], 4, axis=0))

    z = runners_for(synthetic_sets, "syn-zero", cache)
    lower = z.sync(latent[:, :, :8], latent, mel)
    face = z.decode(np.concatenate([latent[:, :, :8], lower], 2))
    np.testing.assert_array_equal(face[:, : S // 2], x[:, : S // 2])
    assert (face[:, S // 2:] == 128).all()  # flat grey: latent 0 -> pixel 127.5 -> 128


def test_mel_window_reaches_the_sync_stage(synthetic_sets, cache) -> None:
    r = runners_for(synthetic_sets, "syn-mel", cache)
    grey = np.full((3, S, S, 3), 128, np.uint8)
    latent = r.encode(grey)
    mel = np.stack([np.full((80, 16), v, np.float32) for v in (-4.0, 0.0, 4.0)])
    lower = r.sync(latent[:, :, :8], latent, mel)
    face = r.decode(np.concatenate([latent[:, :, :8], lower], 2)).astype(int)
    silence, middle, loud = (face[i, S // 2:].mean() for i in range(3))
    assert silence < middle - 50 and loud > middle + 50
    assert abs(middle - 128) <= 1
    assert (face[:, : S // 2] == 128).all()
    # Only the audio differs between frames here, so the change must come from the mel input.
    one_loud_frame = mel.copy()
    one_loud_frame[0, :, 8] = 4.0
    assert r.sync(latent[:, :, :8], latent, one_loud_frame)[0].mean() > lower[0].mean()


def test_tint_shifts_colour(synthetic_sets, cache) -> None:
    r = runners_for(synthetic_sets, "syn-tint", cache)
    grey = np.full((1, S, S, 3), 100, np.uint8)
    out = r.decode(r.encode(grey)).astype(int)
    assert (out[..., 0] == 126).all() and (out[..., 1] == 100).all()  # +0.2 * 127.5 = 25.5
    assert (out[..., 2] == 74).all()


class CountingSession:
    """Wraps a real session; records batch sizes and fails like ORT above a batch limit."""

    def __init__(self, inner, fail_above: int | None = None,
                 message: str = "Failed to allocate memory for requested buffer of size 123"):
        self.inner, self.fail_above, self.message = inner, fail_above, message
        self.batches: list[int] = []

    def run(self, names, feeds):
        batch = next(iter(feeds.values())).shape[0]
        self.batches.append(batch)
        if self.fail_above is not None and batch > self.fail_above:
            raise RuntimeError(f"[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status "
                               f"code returned while running Conv node. {self.message}")
        return self.inner.run(names, feeds)

    def get_providers(self):
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]


class FakeCache:
    def __init__(self, real: SessionCache, **session_kw):
        self.real, self.session_kw = real, session_kw
        self.sessions: dict[str, CountingSession] = {}

    def get(self, entry, providers, device_id=0) -> LoadedSession:
        if entry.stage not in self.sessions:
            inner = self.real.get(entry, (CPU_EP,)).session
            self.sessions[entry.stage] = CountingSession(inner, **self.session_kw)
        return LoadedSession(self.sessions[entry.stage], "CUDA", ("CUDAExecutionProvider",))


def test_batches_are_split(synthetic_sets, cache) -> None:
    x = crops(13, seed=4)
    fake = FakeCache(cache)
    split = runners_for(synthetic_sets, "synthetic", fake, max_batch=4)
    whole = runners_for(synthetic_sets, "synthetic", cache, max_batch=64)
    np.testing.assert_array_equal(split.encode(x), whole.encode(x))
    assert fake.sessions["encode"].batches == [4, 4, 4, 1]
    mel = np.random.default_rng(5).uniform(-4, 4, (13, 80, 16)).astype(np.float32)
    lat = whole.encode(x)
    np.testing.assert_array_equal(split.sync(lat[:, :, :8], lat, mel),
                                  whole.sync(lat[:, :, :8], lat, mel))
    np.testing.assert_array_equal(split.decode(lat), x)


def test_out_of_memory_halves_the_batch(synthetic_sets, cache) -> None:
    fake = FakeCache(cache, fail_above=2)
    r = runners_for(synthetic_sets, "synthetic", fake, max_batch=8)
    x = crops(13, seed=6)
    np.testing.assert_array_equal(r.decode(r.encode(x)), x)
    # 8 fails, 4 fails, then batches of 2 (remembered for the rest of the call and later calls).
    assert fake.sessions["encode"].batches == [8, 4, 2, 2, 2, 2, 2, 2, 1]
    r.encode(x[:3])
    assert fake.sessions["encode"].batches[-2:] == [2, 1]


@pytest.mark.parametrize("message", ["CUDA failure 2: out of memory",
                                     "BFCArena::AllocateRawInternal Available memory of 0"])
def test_out_of_memory_at_batch_one_is_a_resource_error(synthetic_sets, cache, message) -> None:
    fake = FakeCache(cache, fail_above=0, message=message)
    r = runners_for(synthetic_sets, "synthetic", fake, max_batch=4)
    with pytest.raises(ResourceError) as err:
        r.encode(crops(3))
    entry = r.selected("encode")
    assert str(err.value) == (f"GPU out of memory while running encode ({entry.path}); choose "
                              "the CPU provider or close other GPU programs")
    assert fake.sessions["encode"].batches == [3, 1]


def test_other_runtime_errors_name_stage_and_file(synthetic_sets, cache) -> None:
    fake = FakeCache(cache, fail_above=0, message="Invalid rank for input: image")
    r = runners_for(synthetic_sets, "synthetic", fake)
    with pytest.raises(ModelError, match=r"encode failed in model file .*synthetic-encode\.onnx "
                                         r"\(id synthetic-encode\): .*Invalid rank"):
        r.encode(crops(2))
    assert fake.sessions["encode"].batches == [2]


def test_fp16_variants_are_skipped_on_cpu(synthetic_sets, cache) -> None:
    fp16_set = synthetic_sets["syn-fp16"]
    assert fp16_set.stages["encode"][0].precision == "fp16"
    r = runners_for(synthetic_sets, "syn-fp16", cache)
    assert {e.precision for e in r.selected_models()} == {"fp32"}
    x = crops(2, seed=7)
    np.testing.assert_array_equal(r.decode(r.encode(x)), x)
    only_fp16 = type(fp16_set)(**{**fp16_set.__dict__, "stages": {
        k: v[:1] for k, v in fp16_set.stages.items()}})
    with pytest.raises(ModelError, match="no encode model that runs on CPU"):
        StageRunners(only_fp16, provider="cpu", cache=cache)


def test_missing_stage_and_bad_inputs(synthetic_sets, cache) -> None:
    base = synthetic_sets["synthetic"]
    no_swap = type(base)(**{**base.__dict__, "stages": {
        k: v for k, v in base.stages.items() if k != "swap"}})
    r = StageRunners(no_swap, provider="cpu", cache=cache)
    assert not r.has_stage("swap") and r.has_stage("sync")
    latent = r.encode(crops(1))
    with pytest.raises(ModelError, match="has no swap model"):
        r.swap(latent, latent)
    with pytest.raises(ValueError, match="uint8"):
        r.encode(crops(1).astype(np.float32))
    with pytest.raises(ValueError, match="mel must be"):
        r.sync(latent[:, :, :8], latent, np.zeros((1, 80, 20), np.float32))
    with pytest.raises(ValueError, match=r"sync 'upper' must have shape \['B', 768, 8, 16\]"):
        r.sync(latent, latent, np.zeros((1, 80, 16), np.float32))
    with pytest.raises(ValueError, match="max_batch"):
        StageRunners(base, provider="cpu", max_batch=0)


def test_empty_batch(synthetic_sets, cache) -> None:
    r = runners_for(synthetic_sets, "synthetic", cache)
    empty = r.encode(np.zeros((0, S, S, 3), np.uint8))
    assert empty.shape == (0, 768, 16, 16)
    assert r.decode(empty).shape == (0, S, S, 3)
