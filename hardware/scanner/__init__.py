"""Label sources: data-matrix decoding of images and camera frames, keyboard-wedge assembly and serial scanners."""
