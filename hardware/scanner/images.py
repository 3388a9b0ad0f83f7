"""Turn a file path, a Pillow image or a numpy array into an 8-bit grayscale image, or say why it cannot."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from PIL import Image, UnidentifiedImageError

from hardware.errors import HardwareError


class LabelImageError(HardwareError):
    """An image given for label decoding cannot be opened or read."""


class SupportsArrayInterface(Protocol):
    """A numpy-style array (anything Pillow's ``Image.fromarray`` accepts)."""

    @property
    def __array_interface__(self) -> dict[str, object]: ...


ImageSource = Image.Image | str | os.PathLike[str] | SupportsArrayInterface


def load_gray(image: ImageSource) -> Image.Image:
    """The image as 8-bit grayscale; transparent pixels become white. Raises LabelImageError if unreadable."""
    if isinstance(image, Image.Image):
        picture = image
    elif isinstance(image, str | os.PathLike):
        picture = _open(Path(image))
    elif hasattr(image, "__array_interface__"):
        try:
            picture = Image.fromarray(image)
        except (TypeError, ValueError) as exc:
            raise LabelImageError(f"cannot use this array as an image ({exc}); pass 8-bit gray or RGB pixels") from exc
    else:
        raise LabelImageError(
            f"cannot decode labels from a {type(image).__name__}; pass a Pillow image, a numpy array or a file path"
        )
    if picture.mode == "L":
        return picture
    if "A" in picture.getbands() or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    return picture.convert("L")


def _open(path: Path) -> Image.Image:
    try:
        with Image.open(path) as opened:
            opened.load()
            return opened
    except FileNotFoundError:
        raise LabelImageError(f"label image {path} does not exist; check the path") from None
    except Image.DecompressionBombError:
        raise LabelImageError(f"label image {path} is too large to open safely; crop or scale it down") from None
    except UnidentifiedImageError:
        raise LabelImageError(f"{path} is not an image Pillow can read; give a PNG, JPEG or BMP file") from None
    except OSError as exc:
        raise LabelImageError(f"cannot read label image {path}: {exc.strerror or exc}; check the file") from None
