"""Where a thinking signature came from, so that each one goes back only to its maker.

Providers sign their reasoning: Anthropic a thinking block's ``signature``, Gemini a
``thoughtSignature`` on a thought part or on the first ``functionCall`` of a turn. Each
accepts only its own and rejects the others' (a 400), while a Gemini function call that
comes back without its signature is refused too (Gemini 3, thinking on). Clients echo
signatures back untouched, so a signature's origin travels in the string itself:

- In the IR a Gemini thought signature reads ``gemini:<signature>`` (the Gemini decoders
  add the tag, the Gemini encoders remove it); untagged ones are someone else's.
  :attr:`~omni.ir.ToolCall.signature` is Gemini's by definition and stays bare.
- A client of another dialect receives a function call's signature on a thinking block
  (Anthropic) or reasoning item (Responses) just before the call, as
  ``gemini-call:<signature>``; the Gemini request encoder puts it back on the call.
- A Gemini client takes signatures as base64 bytes: another provider's is handed to it
  wrapped, base64 of ``omni-sig:<signature>``, and unwrapped when it comes back.
- Gemini gets only its own signatures; a first function call of a turn that has none (the
  client could not keep it, or the turn came from another model) carries
  :data:`SKIP_VALIDATOR`, the placeholder Google documents for exactly that and that
  gemini-cli sends itself. Anthropic gets none of Gemini's.

Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import binascii

from omni import ir

GEMINI = "gemini:"
GEMINI_CALL = "gemini-call:"
SKIP_VALIDATOR = "skip_thought_signature_validator"
_WRAPPED = b"omni-sig:"
_URLSAFE = str.maketrans("-_", "+/")


def _base64(value: str) -> bytes | None:
    try:
        return binascii.a2b_base64(value.translate(_URLSAFE), strict_mode=True)
    except binascii.Error:
        return None


def from_gemini(raw: str) -> str:
    """The IR signature for a thought signature read from Gemini (upstream or client)."""
    data = _base64(raw) if len(raw) > len(_WRAPPED) else None
    if data is not None and data.startswith(_WRAPPED):
        inner = data[len(_WRAPPED) :].decode("utf-8", "replace")
        if inner:
            return inner  # another provider's, handed to a Gemini client earlier
    return GEMINI + raw


def for_gemini(signature: str | None) -> str | None:
    """The signature to send a Gemini upstream: only its own, untagged; else None."""
    if signature and signature.startswith(GEMINI) and len(signature) > len(GEMINI):
        return signature[len(GEMINI) :]
    return None


def call_signature(signature: str | None) -> str | None:
    """The function-call signature a foreign client's thinking block carries, or None."""
    if signature and signature.startswith(GEMINI_CALL) and len(signature) > len(GEMINI_CALL):
        return signature[len(GEMINI_CALL) :]
    return None


def carrier(call_signature: str) -> str:
    """How a function call's signature rides on a foreign client's thinking."""
    return GEMINI_CALL + call_signature


def for_gemini_client(signature: str | None) -> str | None:
    """A thought signature for a Gemini client: its own bare, another's wrapped as base64."""
    if not signature or call_signature(signature) is not None:
        return None
    own = for_gemini(signature)
    if own is not None:
        return own if _base64(own) is not None else None  # google-genai wants bytes
    if signature.startswith(GEMINI):
        return None
    return base64.b64encode(_WRAPPED + signature.encode()).decode()


def is_geminis(signature: str | None) -> bool:
    """Whether the signature is Gemini's (a thought's or a carried call's)."""
    return signature is not None and signature.startswith((GEMINI, GEMINI_CALL))


def carry_call_signatures(parts: list[ir.Part]) -> list[ir.Part]:
    """``parts`` for a client of another dialect: before each tool call with a signature,
    a thinking part carries it (the thinking just before the call when it has none)."""
    out: list[ir.Part] = []
    for part in parts:
        if isinstance(part, ir.ToolCall) and part.signature:
            last = out[-1] if out else None
            signature = carrier(part.signature)
            if isinstance(last, ir.Reasoning) and not last.signature and last.redacted is None:
                out[-1] = ir.Reasoning(last.text, signature, extras=last.extras)
            else:
                out.append(ir.Reasoning("", signature))
        out.append(part)
    return out
