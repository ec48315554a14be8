"""Batched generation and decoding over ChatTTS's internals (callers hold the engine's model lock).

``Chat.infer`` takes one speaker and one prompt per call; these functions do what ``Chat._infer_code``,
``Chat._refine_text`` and ``Chat._decode_to_wavs`` do, but each row of the batch carries its own
speaker embedding, ``[speed_N]`` prompt and refine levels, so jobs of different voices and speeds
share one GPT ``generate``. ``chat`` is a loaded ``ChatTTS.Chat`` and ``torch`` the torch module
(both ``Any``: ChatTTS is untyped and torch may be absent where mypy runs).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ttsgate.audio.chunk import Float32Array
from ttsgate.engines.chattts_params import Row, Sampling


def generate(
    chat: Any,
    torch: Any,
    rows: Sequence[Row],
    sampling: Sampling,
    ctx: Any,
    *,
    speaker: Callable[[str], Any],
    max_new: int,
    min_new: int,
    refine_max_new: int,
    repetition_penalty: float,
    step_tokens: int,
    stream: bool,
) -> Any:
    """ChatTTS's ``_infer_code`` for a batch of rows with per-row speaker and prompt: ``gpt.generate``'s
    iterator (one finished result without ``stream``; growing results every ``step_tokens`` with it).
    ``speaker(name)`` gives a speaker tensor; refining the text (``sampling.refine``) happens here."""
    gen_logits = importlib.import_module("ChatTTS.model").gen_logits

    texts = [r.text for r in rows]
    if sampling.refine:
        texts = refine(chat, torch, rows, ctx, max_new=refine_max_new)
    decorated = [
        chat.speaker.decorate_code_prompts([t], f"[speed_{r.speed_token}]", None, "spk")[0]
        for t, r in zip(texts, rows, strict=True)
    ]
    num_vq = chat.config.gpt.num_vq
    input_ids, attention_mask, text_mask = chat.tokenizer.encode(decorated, num_vq, device=chat.device_gpt)
    emb = chat.embed(input_ids, text_mask)
    for i, r in enumerate(rows):
        chat.speaker.apply(
            emb.narrow(0, i, 1),
            speaker(r.speaker),
            input_ids.narrow(0, i, 1),
            chat.tokenizer.spk_emb_ids,
            chat.device_gpt,
        )
    num_code = int(chat.config.gpt.num_audio_tokens) - 1
    warpers, processors = gen_logits(
        num_code=num_code,
        top_P=sampling.top_p,
        top_K=sampling.top_k,
        repetition_penalty=repetition_penalty,
    )
    return chat.gpt.generate(
        emb,
        input_ids,
        temperature=torch.tensor([sampling.temperature] * num_vq, device=chat.device),
        eos_token=num_code,
        attention_mask=attention_mask,
        max_new_token=max_new,
        min_new_token=min_new,
        logits_processors=(*processors, *warpers),
        infer_text=False,
        return_hidden=True,
        stream=stream,
        show_tqdm=False,
        ensure_non_empty=True,
        stream_batch=step_tokens,
        context=ctx,
    )


def refine(chat: Any, torch: Any, rows: Sequence[Row], ctx: Any, *, max_new: int) -> list[str]:
    """ChatTTS's ``_refine_text`` with a per-row prompt (oral/laugh/break levels)."""
    gen_logits = importlib.import_module("ChatTTS.model").gen_logits

    prompts = [f"[Sbreak]{r.text}[Pbreak]{r.refine_prompt}" for r in rows]
    input_ids, attention_mask, text_mask = chat.tokenizer.encode(
        prompts, chat.config.gpt.num_vq, device=chat.device_gpt
    )
    emb = chat.embed(input_ids, text_mask)
    warpers, processors = gen_logits(num_code=chat.tokenizer.len, top_P=0.7, top_K=20, repetition_penalty=1.0)
    res = next(
        chat.gpt.generate(
            emb,
            input_ids,
            temperature=torch.tensor([0.7], device=chat.device),
            eos_token=chat.tokenizer.eos_token,
            attention_mask=attention_mask,
            max_new_token=max_new,
            min_new_token=0,
            logits_processors=(*processors, *warpers),
            infer_text=True,
            stream=False,
            show_tqdm=False,
            ensure_non_empty=True,
            context=ctx,
        )
    )
    ids = [i[i.less(chat.tokenizer.break_0_ids)] for i in res.ids]
    return [str(t) for t in chat.tokenizer.decode(ids)]


def decode(chat: Any, torch: Any, hiddens: Sequence[Any], samples_per_token: int) -> list[Float32Array]:
    """GPT hiddens ([T_i, H] each) → audio per row, one decoder + Vocos call (``_decode_to_wavs``)."""
    lengths = [int(h.size(0)) for h in hiddens]
    width = max(max(lengths), 1)
    first = hiddens[0]
    batch = torch.zeros((len(hiddens), first.size(1), width), dtype=first.dtype, device=first.device)
    for i, h in enumerate(hiddens):
        batch[i].narrow(1, 0, h.size(0)).copy_(h.permute(1, 0))
    mel = chat.decoder(batch)
    wav = chat._vocos_decode(mel)
    spt = samples_per_token
    out = []
    for i, n in enumerate(lengths):
        row = np.asarray(wav[i], dtype=np.float32)[: max(0, n * spt - spt // 2)]
        out.append(np.clip(row, -1.0, 1.0).astype(np.float32))
    return out
