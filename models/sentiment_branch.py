"""The sentiment branch: the shared encoder's top layers, fine-tuned for sentiment, forking off the same pass.

A head on the frozen sentence embedding reads sentiment poorly: all-MiniLM-L6-v2 was trained for paraphrase,
which smooths away negation and tone. Fine-tuning a whole second encoder would double the cost of every
message. The branch instead copies the encoder's last `depth` layers, fine-tunes the copies (plus a linear
classifier over their mean-pooled output) on sentiment data, and runs them on the hidden state that the
shared pass has already computed at layer `from_layer`. A message costs one pass plus `depth` layers, and
the layers below the fork, with the sentence embedding every other head reads, stay untouched.

The weights ship as safetensors (float16, upcast on load) with the fork point and class names as metadata.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Protocol

import torch

from models.heads import SENTIMENT_BRANCH_WEIGHTS

__all__ = ["SENTIMENT_BRANCH_WEIGHTS", "BranchFormatError", "ForkedPass", "SentimentBranch"]


class BranchFormatError(ValueError):
    """A branch's weights file does not fit the encoder it is loaded onto."""


class _LayerStack(Protocol):
    @property
    def layer(self) -> torch.nn.ModuleList: ...


class _Width(Protocol):
    @property
    def hidden_size(self) -> int: ...


class ForkableTransformer(Protocol):
    """What a branch reads of the encoder's transformers model (a BertModel): its layers and their width."""

    @property
    def encoder(self) -> _LayerStack: ...

    @property
    def config(self) -> _Width: ...


class SentimentBranch(torch.nn.Module):
    """Fine-tuned copies of the encoder's top layers, then mean pooling and a linear classifier."""

    def __init__(self, layers: torch.nn.ModuleList, from_layer: int, classes: tuple[str, ...], hidden: int) -> None:
        super().__init__()
        self.layers = layers
        self.classifier = torch.nn.Linear(hidden, len(classes))
        self.from_layer = from_layer
        self.classes = classes

    @classmethod
    def from_encoder(cls, transformer: ForkableTransformer, depth: int, classes: tuple[str, ...]) -> SentimentBranch:
        """A branch whose layers start as copies of `transformer`'s last `depth` layers (the fine-tuning start)."""
        encoder_layers = transformer.encoder.layer
        if not 0 < depth <= len(encoder_layers):
            raise BranchFormatError(f"depth must be 1..{len(encoder_layers)}, got {depth}")
        layers = torch.nn.ModuleList(copy.deepcopy(encoder_layers[len(encoder_layers) - depth :]))
        return cls(layers, len(encoder_layers) - depth, classes, int(transformer.config.hidden_size))

    def index(self, name: str) -> int:
        """Column of class `name` in `probabilities`' output."""
        try:
            return self.classes.index(name)
        except ValueError:
            raise LookupError(f"class {name!r} not in {self.classes}") from None

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """(batch, tokens, dim) hidden state at `from_layer` and its (batch, tokens) mask -> (batch, classes) logits."""
        logits: torch.Tensor = self.classifier(self.pooled(hidden, attention_mask))
        return logits

    def pooled(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The branch's layers, then the masked mean over tokens: (batch, dim)."""
        # The additive form every attention implementation accepts: 0 where a token is, a huge negative at padding.
        blocked = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in self.layers:
            output = layer(hidden, attention_mask=blocked)
            hidden = output[0] if isinstance(output, tuple) else output
        weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
        return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)

    def probabilities(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.forward(hidden, attention_mask), dim=-1)

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Half precision halves the committed file; the probabilities move by less than 1e-3.
        tensors = {name: value.detach().to(torch.float16).contiguous() for name, value in self.state_dict().items()}
        save_file(tensors, str(path), metadata={"from_layer": str(self.from_layer), "classes": ",".join(self.classes)})

    @classmethod
    def load(cls, path: Path, transformer: ForkableTransformer) -> SentimentBranch:
        """The branch saved at `path`, built on `transformer`'s layer architecture."""
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name).to(torch.float32) for name in handle.keys()}  # noqa: SIM118 (a safe_open handle is not iterable)
        try:
            from_layer = int(metadata["from_layer"])
            classes = tuple(metadata["classes"].split(","))
        except (KeyError, ValueError) as error:
            raise BranchFormatError(f"{path}: metadata lacks from_layer or classes ({error})") from None
        total = len(transformer.encoder.layer)
        branch = cls.from_encoder(transformer, total - from_layer, classes)
        try:
            branch.load_state_dict(tensors)
        except RuntimeError as error:
            raise BranchFormatError(f"{path} does not fit this encoder: {error}") from None
        return branch.eval()


class ForkedPass(torch.nn.Module):
    """The encoder with a branch inside it, as one module: token ids and mask -> (embeddings, branch output,
    the last layer's token states).

    The embeddings are the normalised masked mean of the last layer, as sentence-transformers pools them; the
    token states let a sentence of a message be pooled on its own from the same pass (models.sentences).
    `SentenceEncoder.encode_with_branch` runs this module in torch and `models.onnx_pass` exports it, so the
    two backends compute the same graph.
    """

    def __init__(self, transformer: torch.nn.Module, branch: SentimentBranch) -> None:
        super().__init__()
        self.transformer = transformer
        self.branch = branch

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        output = self.transformer(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True, return_dict=True
        )
        weights = attention_mask.to(torch.float32).unsqueeze(-1)  # padding tokens weigh 0 in the mean
        pooled = (output.last_hidden_state * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        branch_output = self.branch.probabilities(output.hidden_states[self.branch.from_layer], attention_mask)
        return torch.nn.functional.normalize(pooled, dim=1), branch_output, output.last_hidden_state
