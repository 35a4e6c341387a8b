# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""bench/size_slope.py: the fit recovers a known size response; distractor hits are dropped."""

import math

from helpers.bench_tools import load_bench_tool
import numpy as np
import pytest

from vil_tracker_ros.core.backend import BackendOutput
from vil_tracker_ros.data.sequence import Sequence

size_slope = load_bench_tool('size_slope')
GRID = 8


class ShareBackend:
    """Reports a size ``c * share**alpha * nominal**(1 - alpha)`` of the white square it sees.

    The true share is measured from the crop's white pixels, so the tool's fit must give
    back ``alpha`` and ``log c``. ``offset`` moves the reported centre (in cells).
    """

    template_size = 16
    search_size = 128

    def __init__(self, alpha: float, log_c: float, offset: float = 0.0) -> None:
        self.alpha, self.log_c, self.offset = alpha, log_c, offset

    def encode_template(self, crop):
        return None

    def track(self, template, crop, ctx=None):
        share = math.sqrt(float(np.mean(crop[..., 0] > 127)))    # target side / crop side
        nominal = 0.25                                            # search factor 4
        size = math.exp(self.log_c) * share ** self.alpha * nominal ** (1 - self.alpha)
        score = np.zeros((GRID, GRID))
        score[GRID // 2, GRID // 2] = 1.0
        offset = np.full((2, GRID, GRID), self.offset)
        return BackendOutput(box=np.zeros(4), score=1.0, score_map=score,
                             size_map=np.full((2, GRID, GRID), size), offset_map=offset,
                             log_var=np.zeros(4), temporal_ctx=None)


def _square_sequence(frames: int = 5) -> Sequence:
    """A white 40 px square centred at (160, 120) on black, growing a little per frame."""
    images, boxes = [], []
    for i in range(frames):
        side = 40 + 2 * i
        image = np.zeros((240, 320, 3), np.uint8)
        x0, y0 = 160 - side // 2, 120 - side // 2
        image[y0:y0 + side, x0:x0 + side] = 255
        images.append(image)
        boxes.append([x0, y0, side, side])
    return Sequence(name='square', gt=np.array(boxes, float),
                    loader=lambda index: images[index], num_frames=frames)


@pytest.mark.parametrize('alpha, log_c', [(1.0, 0.0), (0.4, 0.05)])
def test_fit_recovers_the_size_response(alpha, log_c):
    pairs = list(size_slope.samples(ShareBackend(alpha, log_c), [_square_sequence()],
                                    2.0, 4.0, frame_step=1))
    assert len(pairs) == 4 * len(size_slope.SCALES)
    xs = sorted({round(x, 6) for x, _ in pairs})
    assert xs[0] == pytest.approx(-math.log(1.6)) and xs[-1] == pytest.approx(-math.log(0.6))
    result = size_slope.fit(pairs)
    # Pixel rounding of the crop blurs the share a little: a few hundredths.
    assert result['alpha'] == pytest.approx(alpha, abs=0.03)
    assert result['log_c'] == pytest.approx(log_c, abs=0.02)
    assert result['residual_std'] < 0.03


def test_peaks_off_the_target_are_not_counted():
    # The reported centre lands a whole cell (a quarter of the crop) off: no pair counts.
    far = ShareBackend(0.5, 0.0, offset=2.5)
    assert list(size_slope.samples(far, [_square_sequence()], 2.0, 4.0, frame_step=1)) == []
    with pytest.raises(SystemExit, match='only 0 usable crops'):
        size_slope.fit([])
