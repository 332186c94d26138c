"""Training data: preparing a dataset from videos (torch-free: ``prepare``, ``sources``,
``split``, ``clip_prep``; the dataset's files are ``media.dataset_layout`` and
``media.crops_io``, which eval reads too), drawing batches (``dataset``, ``windows``),
the VQGAN latent cache (``latents``, torch) and the dlib teacher cache (``teacher``).

Import the submodules directly; this package imports nothing, so ``swaptalk train prepare``
runs without torch installed."""
