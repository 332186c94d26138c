"""Training data: preparing a dataset from videos (torch-free: ``prepare``, ``layout``,
``sources``, ``split``, ``clip_prep``, ``crops_io``), drawing batches (``dataset``, ``windows``),
the VQGAN latent cache (``latents``, torch) and the dlib teacher cache (``teacher``).

Import the submodules directly; this package imports nothing, so ``swaptalk train prepare``
runs without torch installed."""
