"""SwapTalk Desktop: replace dialogue in video with face swap and lip sync in one latent space."""

__version__ = "0.1.0"
