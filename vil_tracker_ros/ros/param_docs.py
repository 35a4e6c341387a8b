# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The node's parameter descriptions and ranges (``ros/params.py`` builds descriptors)."""

from __future__ import annotations

from typing import Dict, NamedTuple, Optional


class Doc(NamedTuple):
    """A parameter's description and, for numbers, its range (bounds included)."""

    text: str
    lo: Optional[float] = None
    hi: Optional[float] = None
    choices: str = ''


# Description and range per parameter; ranges mirror the dataclasses' validate() (exclusive
# bounds such as "> 0" are stated in the text and enforced by validate()).
DOCS: Dict[str, Doc] = {
    'model.checkpoint': Doc(
        'Checkpoint file (.pt, or .onnx with backend onnxruntime). A relative path that does not '
        "exist in the working directory is looked up in the package's weights/ directory."),
    'model.device': Doc('Inference device.', choices='auto, cpu, cuda, cuda:N'),
    'model.precision': Doc(
        'Inference precision: fp32; fp16 (torch, CUDA) or bf16 (torch, where the hardware '
        'supports it); int8 (onnxruntime on the CPU: the exported graph with int8 MatMul '
        'weights, quantised once into the cache).', choices='fp32, fp16, bf16, int8'),
    'model.backend': Doc('Inference runtime.', choices='torch, onnxruntime'),
    'model.threads': Doc('CPU threads for inference; 0 keeps the library default.', 0, 256),
    'tracker.search_factor': Doc('Search crop side / target side.', 1.0, 16.0),
    'tracker.template_factor': Doc('Template crop side / target side.', 1.0, 8.0),
    'tracker.hann_weight': Doc('Weight of the Hann window applied to the score map.', 0.0, 1.0),
    'tracker.template_update_interval': Doc(
        'Frames between template updates; 0 disables updates.', 0, 100000),
    'tracker.template_update_confidence': Doc(
        'Minimum confidence for a template update.', 0.0, 1.0),
    'tracker.lost_confidence': Doc('Confidence below which a frame counts as a miss.', 0.0, 1.0),
    'tracker.lost_frames': Doc('Consecutive misses before the status becomes lost.', 1, 100000),
    'tracker.reacquire_confidence': Doc(
        'Confidence that re-acquires a lost target (must be >= lost_confidence).', 0.0, 1.0),
    'tracker.lost_search_growth': Doc(
        'Search factor growth per missed frame while lost.', 1.0, 4.0),
    'tracker.max_search_factor': Doc(
        'Largest search factor while lost (must be >= search_factor).', 1.0, 32.0),
    'tracker.relocate_with_initial_template': Doc(
        'While lost, search with the template of the initial box (not the last update), '
        'and keep it once the target is re-acquired.'),
    'tracker.global_search_interval': Doc(
        'While lost, also search the whole image (tiles at search_factor) every N frames; '
        '0 disables.', 0, 100000),
    'tracker.global_search_max_tiles': Doc(
        'Most search crops one global search runs (each costs one model step).', 1, 64),
    'tracker.confirm_redetection': Doc(
        'While lost, first search as a tracked frame does (search_factor, window, appearance '
        'filter) around the last position; only if that fails, search wider and search again '
        "around the wider search's best candidate, as a tracked frame does (up to 3 model "
        'steps per lost frame). false lets the widened search alone decide.'),
    'tracker.extrapolate_while_lost': Doc(
        'While lost, keep moving the box (and the search region) with the last velocity; '
        'false holds it where the target was last seen.'),
    'tracker.aspect_prior': Doc(
        "Pull of the initial box's aspect ratio (w / h) on each measurement, keeping its "
        "centre and area: 0 trusts the network's aspect, 1 keeps the initial one.", 0.0, 1.0),
    'tracker.appearance_weight': Doc(
        "Share of the online correlation filter (learnt on this target's own crops) in "
        "choosing the score map's peak and in the confidence; 0 switches it off and forgets "
        'the filter.', 0.0, 1.0),
    'tracker.appearance_learning_rate': Doc(
        'Running-average rate of the correlation filter per accepted frame; 0 keeps the '
        'filter learnt on the first frame.', 0.0, 1.0),
    'tracker.appearance_sigma': Doc(
        "Width of the correlation filter's desired response, in target sizes.", 0.01, 1.0),
    'tracker.scale_filter_weight': Doc(
        "Share of the DSST scale filter (learnt on this target's own appearance) in each "
        'measured log size while tracking; 0 switches it off and forgets the filter.',
        0.0, 1.0),
    'tracker.scale_filter_learning_rate': Doc(
        'Running-average rate of the scale filter per accepted frame (0: first frame).', 0.0, 1.0),
    'tracker.centre_filter_weight': Doc(
        "Share of the centre filter (learnt on this target at twice the network's "
        'resolution) in each measured centre of targets >= 32 px; 0 switches it off.', 0.0, 1.0),
    'tracker.centre_filter_learning_rate': Doc(
        'Running-average rate of the centre filter per accepted frame.', 0.0, 1.0),
    'kalman.std_position': Doc(
        'Position random walk (process noise), in box sizes per sqrt(second) (> 0).', 0.0, 100.0),
    'kalman.std_size': Doc(
        'Box-size random walk (process noise), in box sizes per sqrt(second) (> 0).',
        0.0, 100.0),
    'kalman.std_velocity': Doc(
        'White-noise acceleration (process noise), in box sizes per second^1.5 (> 0).',
        0.0, 100.0),
    'kalman.std_measurement': Doc(
        'Base measurement noise, in box sizes (> 0).', 0.0, 100.0),
    'kalman.std_initial_velocity': Doc(
        'Velocity standard deviation at (re)initialisation, in box sizes per second (> 0).',
        0.0, 100.0),
    'kalman.gate_probability': Doc(
        'Chi-square gate probability for accepting a measurement, in (0, 1).', 0.0, 1.0),
    'kalman.uncertainty_scale': Doc(
        "How much the model's predicted variance scales the measurement noise.", 0.0, 10.0),
    'kalman.max_dt': Doc(
        'Seconds between frames above which the velocity is re-seeded (> 0).', 0.0, 3600.0),
    'kalman.min_motion_scale': Doc(
        "Smallest scale of the position motion noise, as a fraction of the image's shorter "
        'side: camera motion moves small targets as many pixels as large ones; 0 scales it by '
        'the box size alone.', 0.0, 1.0),
    'kalman.size_velocity': Doc(
        'Model a box-size rate (constant velocity) instead of a size random walk; a rate '
        'lets a network that overestimates sizes run the box away.'),
    'kalman.min_size_motion_scale': Doc(
        "Smallest scale of the box-size motion noise, as a fraction of the image's shorter "
        'side; 0 scales it by the box size alone.', 0.0, 1.0),
    'io.image_reliable': Doc(
        'Subscribe to images with reliable QoS instead of sensor-data (best effort, depth 1).'),
    'io.compressed': Doc('Subscribe to image/compressed (CompressedImage) instead of image.'),
    'io.class_id': Doc('results[0].hypothesis.class_id of the published detections.'),
    'io.debug_image': Doc('Publish ~/debug_image (only while someone subscribes).'),
    'io.frame_ring_size': Doc(
        'Recent frames kept so that init_bbox can name the frame it was drawn on.', 1, 1000),
}
