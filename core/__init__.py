"""The bottom layer: what every package may import (errors, strict config loading).

`core` imports nothing from nets, calib, train or app; they all may import it.
"""
