"""Faces: detection, landmarks, tracking and smoothing, identity, alignment, masks, blending.

Everything here is numpy in / numpy out, RGB ``uint8`` images, frame pixels with pixel centres
at integer coordinates, and imports neither Qt nor torch.
"""

from .align import (
    SPLIT_ROW,
    TEMPLATE_SIZE,
    alignment_matrix,
    alignment_points,
    invert,
    template_points,
    transform_points,
    warp_to_crop,
)
from .blend import color_match, paste_back
from .facetrack import FaceTrack, TargetSpec
from .identity import IdentityEmbedder, cosine, load_identity_photo
from .image_io import read_image
from .landmarker import MediaPipeLandmarker, default_landmarker
from .masks import face_mask
from .tracking import track_faces
from .types import FaceDetection, FaceLandmarker

__all__ = [
    "SPLIT_ROW",
    "TEMPLATE_SIZE",
    "FaceDetection",
    "FaceLandmarker",
    "FaceTrack",
    "IdentityEmbedder",
    "MediaPipeLandmarker",
    "TargetSpec",
    "alignment_matrix",
    "alignment_points",
    "color_match",
    "cosine",
    "default_landmarker",
    "face_mask",
    "invert",
    "load_identity_photo",
    "paste_back",
    "read_image",
    "template_points",
    "track_faces",
    "transform_points",
    "warp_to_crop",
]
