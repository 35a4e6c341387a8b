# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Inference backends: the tracker talks to the network only through this Protocol.

A backend takes uint8 RGB crops (it normalises them itself, with
``core.preprocess``) and returns a ``BackendOutput`` of plain numpy arrays for
one image, so the tracker never depends on torch or onnxruntime directly.

* ``TorchBackend``: the ``model/`` network in eager torch on cpu / cuda[:N],
  fp32 / fp16 / bf16 (autocast), with a configurable CPU thread count.
* ``OnnxRuntimeBackend``: the template and per-frame ``track`` graphs that
  ``vil_tracker_ros.model.export`` writes, on onnxruntime's CPU or CUDA
  provider (fp32 only).

``build_backend(cfg)`` picks one from a ``BackendConfig`` and loads the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
from typing import Any, Dict, Optional, Protocol, runtime_checkable, Sequence, Tuple

import numpy as np

from vil_tracker_ros.config import BackendConfig
from vil_tracker_ros.core.preprocess import normalize, normalize_numpy
from vil_tracker_ros.core.side_thread import usable_cores


class BackendError(RuntimeError):
    """A backend cannot be built or run as configured; the message says why."""


@dataclass
class BackendOutput:
    """Network output for one image (batch item 0), as numpy."""

    box: np.ndarray            # (4,) the network's own decode: normalised cx, cy, w, h
    score: float               # peak of score_map
    score_map: np.ndarray      # (Hf, Wf) centre probability in (0, 1)
    size_map: np.ndarray       # (2, Hf, Wf) normalised w, h
    offset_map: np.ndarray     # (2, Hf, Wf) sub-cell centre offset, in cells
    log_var: np.ndarray        # (4,) log-variance of cx, cy, w, h (normalised crop units)
    temporal_ctx: Any          # opaque; hand back to the next ``track`` call


@runtime_checkable
class TrackingBackend(Protocol):
    """What the tracker needs from a network runtime.

    Optional: ``cpu_threads``, the CPU threads busy while the network runs (1 if absent);
    the tracker hands work to a side thread only where that leaves a core free.
    """

    name: str              # 'torch', 'onnxruntime', ...
    device: str            # resolved device, for diagnostics
    template_size: int     # template crop side (px) the network expects
    search_size: int       # search crop side (px)

    def encode_template(self, template_crop: np.ndarray) -> Any:
        """Encode a ``template_size`` uint8 RGB crop; the result is opaque."""

    def track(self, template_state: Any, search_crop: np.ndarray,
              temporal_ctx: Any = None) -> BackendOutput:
        """Run one search crop (``search_size`` uint8 RGB) against a template state."""


def _check_crop(crop: np.ndarray, size: int, what: str) -> None:
    if not isinstance(crop, np.ndarray) or crop.dtype != np.uint8 or \
            crop.shape != (size, size, 3):
        shape = getattr(crop, 'shape', None)
        dtype = getattr(crop, 'dtype', None)
        raise ValueError(f'{what} crop must be uint8 ({size}, {size}, 3), '
                         f'got {dtype} {shape}')


# ------------------------------------------------------------------------- torch


def resolve_torch_device(device: str) -> Any:
    """Map 'auto' | 'cpu' | 'cuda' | 'cuda:N' to a torch.device, or raise BackendError."""
    import torch
    if device == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cpu':
        return torch.device('cpu')
    if device == 'cuda' or device.startswith('cuda:'):
        if not torch.cuda.is_available():
            raise BackendError(f'device {device!r} requested but CUDA is not available '
                               f'(torch {torch.__version__}, built with CUDA '
                               f'{torch.version.cuda}); use device auto or cpu')
        dev = torch.device(device)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise BackendError(f'device {device!r} requested but only '
                               f'{torch.cuda.device_count()} CUDA device(s) exist')
        return dev
    raise BackendError(f'unknown device {device!r}; use auto, cpu, cuda or cuda:N')


class TorchBackend:
    """Eager torch execution of a ``ViLTracker`` (``model/``)."""

    name = 'torch'

    def __init__(self, model: Any, device: str = 'auto', precision: str = 'fp32',
                 threads: int = 0) -> None:
        import torch
        if precision not in ('fp32', 'fp16', 'bf16'):
            raise BackendError(f'unknown precision {precision!r}; use fp32, fp16 or bf16')
        dev = resolve_torch_device(device)
        if precision == 'fp16' and dev.type == 'cpu':
            raise BackendError('precision fp16 needs a CUDA device (CPU half kernels are '
                               'missing or slow); use fp32 on CPU')
        if threads > 0:
            torch.set_num_threads(threads)
        self._torch = torch
        self.model = model.to(dev).eval()
        self.torch_device = dev
        self.device = str(dev)
        # CPU threads busy while the network runs (on a GPU: the waiting caller)
        self.cpu_threads = 1 if dev.type == 'cuda' else torch.get_num_threads()
        self.precision = precision
        self._amp_dtype = {'fp32': None, 'fp16': torch.float16,
                           'bf16': torch.bfloat16}[precision]
        cfg = model.cfg
        self.template_size = int(cfg.template_size)
        self.search_size = int(cfg.search_size)

    def _autocast(self) -> Any:
        return self._torch.autocast(device_type=self.torch_device.type,
                                    dtype=self._amp_dtype or self._torch.float32,
                                    enabled=self._amp_dtype is not None)

    def encode_template(self, template_crop: np.ndarray) -> Any:
        _check_crop(template_crop, self.template_size, 'template')
        x = normalize(template_crop, device=self.torch_device)           # (1, 3, Ht, Wt)
        with self._torch.inference_mode(), self._autocast():
            return self.model.encode_template(x)

    def track(self, template_state: Any, search_crop: np.ndarray,
              temporal_ctx: Any = None) -> BackendOutput:
        _check_crop(search_crop, self.search_size, 'search')
        x = normalize(search_crop, device=self.torch_device)             # (1, 3, Hs, Ws)
        with self._torch.inference_mode(), self._autocast():
            out = self.model.track(template_state, x, temporal_ctx)

        def np0(t: Any) -> np.ndarray:
            return t[0].detach().float().cpu().numpy()
        return BackendOutput(box=np0(out.boxes), score=float(out.scores[0].float()),
                             score_map=np0(out.score_map)[0], size_map=np0(out.size_map),
                             offset_map=np0(out.offset_map), log_var=np0(out.log_var),
                             temporal_ctx=out.temporal_ctx)


# ------------------------------------------------------------------- onnxruntime


class OnnxRuntimeBackend:
    """The graphs ``vil-tracker-export`` writes, on onnxruntime (fp32 or their int8 twin).

    ``<name>.onnx`` is the per-frame track graph (inputs ``search``, ``ctx_in``,
    ``ctx_weight`` and the flattened template state; outputs named as the
    ``TrackerOutput`` fields) and ``<name>.template.onnx`` encodes the template
    crop into that state. A missing temporal context is fed as zeros with
    ``ctx_weight`` 0, which the exporter defines as "no context".
    ``precision`` names what the graph holds ('int8': ``model/quantize.py``'s twin, which
    ``build_backend`` makes); the graph is run as it is.
    """

    name = 'onnxruntime'

    def __init__(self, onnx_path: str, device: str = 'auto', precision: str = 'fp32',
                 threads: int = 0) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise BackendError(f'backend onnxruntime requested but it is not installed: '
                               f'{exc}') from exc
        from vil_tracker_ros.model.export import template_path_for
        from vil_tracker_ros.model.tracker_net import OUTPUT_NAMES
        if precision not in ('fp32', 'int8'):
            raise BackendError(f'backend onnxruntime runs the exported fp32 graph or its int8 '
                               f'twin; precision {precision!r} is not supported (use fp32 or '
                               f'int8, or the torch backend for fp16/bf16)')
        self.precision = precision
        self._ort = ort
        track_path = str(onnx_path)
        template_path = str(template_path_for(Path(track_path)))
        for path in (track_path, template_path):
            if not os.path.isfile(path):
                raise BackendError(f'{path}: ONNX file does not exist (vil-tracker-export '
                                   f'writes <name>.onnx and <name>.template.onnx)')
        if precision == 'int8' and device.startswith('cuda'):
            raise BackendError(f'precision int8 is for CPU inference; device {device!r} '
                               f'wants fp32 (or the torch backend with fp16/bf16)')
        # an int8 twin runs on the CPU also where 'auto' would pick a GPU
        providers = self._providers(ort, 'cpu' if precision == 'int8' else device)
        opts = ort.SessionOptions()
        if threads > 0:
            opts.intra_op_num_threads = threads
        try:
            self.track_session = ort.InferenceSession(track_path, opts, providers=providers)
            self.template_session = ort.InferenceSession(template_path, opts,
                                                         providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise BackendError(f'{track_path}: onnxruntime cannot load the graphs: '
                               f'{exc}') from exc
        self.device = self.track_session.get_providers()[0]
        # CPU threads busy while the network runs (on a GPU: the waiting caller); ORT's
        # default pool has a thread per core
        self.cpu_threads = 1 if self.device != 'CPUExecutionProvider' else (
            threads if threads > 0 else usable_cores())
        self._output_names = list(OUTPUT_NAMES)
        inputs = {i.name: i for i in self.track_session.get_inputs()}
        outputs = {o.name: o for o in self.track_session.get_outputs()}
        self._state_names = [o.name for o in self.template_session.get_outputs()]
        t_inputs = {i.name: i for i in self.template_session.get_inputs()}
        missing = sorted(set(self._output_names) - set(outputs))
        if 'search' not in inputs or 'template' not in t_inputs or missing:
            raise BackendError(f'{track_path}: not a vil-tracker-export graph pair (track '
                               f'inputs {sorted(inputs)}, outputs {sorted(outputs)}, '
                               f'template inputs {sorted(t_inputs)})')
        self._input_names = set(inputs)
        # bound on every frame; the exporter drops inputs a graph does not use (e.g. the
        # context without FiLM)
        self._frame_inputs = [n for n in ('search', 'ctx_in', 'ctx_weight') if n in inputs]
        self.template_size = int(t_inputs['template'].shape[-1])
        self.search_size = int(inputs['search'].shape[-1])
        self.ctx_dim = int(outputs['temporal_ctx'].shape[-1])

    @staticmethod
    def _providers(ort: Any, device: str) -> list:
        available = ort.get_available_providers()
        if device == 'cpu':
            return ['CPUExecutionProvider']
        if device == 'auto':
            return [p for p in ('CUDAExecutionProvider', 'CPUExecutionProvider')
                    if p in available]
        if device == 'cuda' or device.startswith('cuda:'):
            if 'CUDAExecutionProvider' not in available:
                raise BackendError(f'device {device!r} requested but onnxruntime has no CUDA '
                                   f'provider (available: {available}); use cpu or auto')
            index = int(device.split(':')[1]) if ':' in device else 0
            return [('CUDAExecutionProvider', {'device_id': index}), 'CPUExecutionProvider']
        raise BackendError(f'unknown device {device!r}; use auto, cpu, cuda or cuda:N')

    def encode_template(self, template_crop: np.ndarray) -> Any:
        _check_crop(template_crop, self.template_size, 'template')
        x = normalize_numpy(template_crop)                               # (1, 3, Ht, Wt)
        state = self.template_session.run(None, {'template': x})
        return _BoundTemplate(self._ort, self.track_session, dict(zip(self._state_names, state)),
                              self._input_names, self._output_names)

    def track(self, template_state: Any, search_crop: np.ndarray,
              temporal_ctx: Any = None) -> BackendOutput:
        _check_crop(search_crop, self.search_size, 'search')
        if not isinstance(template_state, _BoundTemplate):
            raise BackendError(f'template state {type(template_state).__name__} is not one '
                               f'this backend encoded')
        if temporal_ctx is None:
            ctx = np.zeros((1, self.ctx_dim), np.float32)
            weight = np.zeros((1, 1), np.float32)
        else:
            ctx = np.ascontiguousarray(temporal_ctx, dtype=np.float32).reshape(1, self.ctx_dim)
            weight = np.ones((1, 1), np.float32)
        feeds = {'search': normalize_numpy(search_crop), 'ctx_in': ctx, 'ctx_weight': weight}
        binding = template_state.binding
        for name in self._frame_inputs:
            binding.bind_cpu_input(name, feeds[name])
        self.track_session.run_with_iobinding(binding)
        res = dict(zip(self._output_names, binding.copy_outputs_to_cpu()))
        return BackendOutput(box=res['boxes'][0], score=float(res['scores'][0]),
                             score_map=res['score_map'][0, 0], size_map=res['size_map'][0],
                             offset_map=res['offset_map'][0], log_var=res['log_var'][0],
                             temporal_ctx=res['temporal_ctx'])


class _BoundTemplate:
    """A template state, bound once to the track graph's inputs (and its outputs' names).

    The graph takes 4 tensors per block as the template state; bound as onnxruntime
    values when the template is encoded, they are not converted again on every frame
    (nor copied to a GPU again). The binding belongs to this state: two states, two
    bindings, so a tracker may switch between them.
    """

    def __init__(self, ort: Any, session: Any, tensors: Dict[str, np.ndarray],
                 input_names: Any, output_names: Sequence[str]) -> None:
        self.tensors = tensors        # keeps the bound CPU buffers alive
        self.binding = session.io_binding()
        device, index = _ort_device(session)
        for name, value in tensors.items():
            if name in input_names:
                self.binding.bind_ortvalue_input(
                    name, ort.OrtValue.ortvalue_from_numpy(value, device, index))
        for name in output_names:
            self.binding.bind_output(name)


def _ort_device(session: Any) -> Tuple[str, int]:
    """Return the (device type, index) a session's first provider runs on."""
    provider = session.get_providers()[0]
    if provider == 'CUDAExecutionProvider':
        return 'cuda', int(session.get_provider_options()[provider].get('device_id', 0))
    return 'cpu', 0


# ----------------------------------------------------------------------- factory


def _export_to_cache(checkpoint: str) -> str:
    from vil_tracker_ros.core.onnx_cache import exported_graph
    from vil_tracker_ros.model import CheckpointError
    if not os.path.isfile(checkpoint):
        raise BackendError(f'{checkpoint}: checkpoint does not exist')
    try:
        return exported_graph(checkpoint)
    except CheckpointError as exc:
        raise BackendError(str(exc)) from exc
    except (OSError, RuntimeError) as exc:
        raise BackendError(f'{checkpoint}: exporting the ONNX graphs failed: {exc}') from exc


def _quantize_to_cache(onnx_path: str) -> str:
    from vil_tracker_ros.core.onnx_cache import quantized_graph
    try:
        return quantized_graph(onnx_path)
    except FileNotFoundError as exc:
        raise BackendError(f'{exc} (vil-tracker-export writes <name>.onnx and '
                           f'<name>.template.onnx)') from exc
    except (ImportError, OSError, RuntimeError) as exc:
        raise BackendError(f'{onnx_path}: quantising the graph to int8 failed: {exc}') from exc


def build_backend(cfg: BackendConfig, onnx_path: Optional[str] = None) -> TrackingBackend:
    """Build the backend ``cfg`` selects.

    torch: ``cfg.checkpoint`` is a checkpoint from ``model.save_checkpoint``.
    onnxruntime: ``onnx_path`` if given, else ``cfg.checkpoint`` itself when it
    ends in ``.onnx``, else the checkpoint path with its suffix replaced by
    ``.onnx`` (export next to the checkpoint: ``vil-tracker-export --checkpoint
    ck.pt --output ck.onnx``). The template graph ``<name>.template.onnx`` must
    sit beside it. Precision int8 runs that graph's int8 twin, quantised once into the
    cache (``core/onnx_cache.py``).
    """
    cfg.validate()
    if not cfg.checkpoint:
        raise BackendError('model.checkpoint is empty: give the path of a model checkpoint')
    if cfg.backend == 'torch':
        from vil_tracker_ros.model import CheckpointError, load_checkpoint
        if cfg.checkpoint.endswith('.onnx'):
            raise BackendError(f'{cfg.checkpoint}: backend torch needs a torch checkpoint, '
                               f'not an ONNX graph (set backend: onnxruntime)')
        dev = resolve_torch_device(cfg.device)
        try:
            model, _ = load_checkpoint(cfg.checkpoint, map_location=str(dev))
        except CheckpointError as exc:
            raise BackendError(str(exc)) from exc
        return TorchBackend(model, device=str(dev), precision=cfg.precision,
                            threads=cfg.threads)
    if onnx_path is None:
        root, ext = os.path.splitext(cfg.checkpoint)
        onnx_path = cfg.checkpoint if ext == '.onnx' else root + '.onnx'
        if ext != '.onnx' and not os.path.isfile(onnx_path):
            onnx_path = _export_to_cache(cfg.checkpoint)
    if cfg.precision == 'int8':
        onnx_path = _quantize_to_cache(onnx_path)
    return OnnxRuntimeBackend(onnx_path, device=cfg.device, precision=cfg.precision,
                              threads=cfg.threads)
