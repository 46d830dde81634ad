"""Build a tiny Coqui VITS model with random weights, so the Coqui engine is tested without the model zoo.

Like Piper's tests/generate_test_voice.py: the real Coqui model class, built from a real VitsConfig
(characters instead of phonemes, so no espeak is needed), saved the way Coqui's trainer saves a
checkpoint (trainer.io.save_checkpoint) beside its config.json. It says nothing intelligible, but it
goes through the same loading and synthesis code as a trained VITS model.

    python tests/coqui/make_tiny_vits.py OUT_DIR [--speakers alice,bob] [--sample-rate 16000] [--seed 0] [--full-size]

prints the checkpoint and config paths, one a line. --full-size keeps the layer sizes of Coqui's released
VITS models (VitsArgs' defaults, about 36 M parameters): random still, but as costly to run, for benchmarks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

LETTERS = "abcdefghijklmnopqrstuvwxyz"
PUNCTUATION = "!'(),-.:;? "


def build(out: Path, speakers: tuple[str, ...] = (), sample_rate: int = 16000, seed: int = 0,
          full_size: bool = False) -> tuple[Path, Path]:
    """Write OUT/checkpoint_1.pth and OUT/config.json; return their paths."""
    import torch
    from trainer.io import save_checkpoint
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsArgs, VitsConfig
    from TTS.tts.models import setup_model

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    tiny = dict(
        hidden_channels=32,
        hidden_channels_ffn_text_encoder=64,
        num_heads_text_encoder=2,
        num_layers_text_encoder=1,
        num_layers_posterior_encoder=1,
        num_layers_flow=1,
        resblock_type_decoder="2",
        resblock_kernel_sizes_decoder=[3],
        resblock_dilation_sizes_decoder=[[1, 3]],
        upsample_rates_decoder=[8, 8, 4],
        upsample_kernel_sizes_decoder=[16, 16, 8],
        upsample_initial_channel_decoder=32,
        use_sdp=False,
        speaker_embedding_channels=16,
    )
    args = VitsArgs(**({} if full_size else tiny), init_discriminator=False, use_speaker_embedding=bool(speakers))
    config = VitsConfig(
        model_args=args,
        audio=BaseAudioConfig(sample_rate=sample_rate, hop_length=256, win_length=1024, fft_size=1024,
                              num_mels=80, mel_fmax=sample_rate // 2, do_trim_silence=False),
        characters=CharactersConfig(characters_class="TTS.tts.models.vits.VitsCharacters", pad="<PAD>",
                                    eos="<EOS>", bos="<BOS>", blank="<BLNK>", characters=LETTERS,
                                    punctuations=PUNCTUATION, phonemes=None, is_unique=True, is_sorted=True),
        text_cleaner="english_cleaners",
        use_phonemes=False,
        phonemizer=None,
        add_blank=True,
        use_speaker_embedding=bool(speakers),
        speakers=list(speakers),
        languages=["en"],
        test_sentences=[],
    )
    model = setup_model(config)
    config_path = out / "config.json"
    config.save_json(str(config_path))
    save_checkpoint(config, model, str(out), current_step=1, epoch=1)
    return out / "checkpoint_1.pth", config_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--speakers", default="", help="comma-separated speaker names (a multi-speaker model)")
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full-size", action="store_true", help="the layer sizes of a released VITS model")
    options = parser.parse_args(argv)
    speakers = tuple(name for name in options.speakers.split(",") if name)
    for path in build(options.out, speakers, options.sample_rate, options.seed, options.full_size):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
