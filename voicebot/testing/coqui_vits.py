"""A tiny Coqui VITS model folder with random weights, built from a Coqui config.

No pretrained Coqui checkpoint installs offline (Coqui's model manager downloads from the
hub), so the Coqui backend is tested on a model this module builds: the real VITS
architecture, shrunk (about 1.4 M parameters, 6 MB), saved the way Coqui's trainer saves
one (`config.json` plus `model.pth` holding {"model": state_dict}). Its audio is noise-like,
but it flows through the same loading and synthesis code as a trained voice. Needs the
optional Coqui extra (`make coqui`).
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_RATE = 22050
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
PUNCTUATION = "!'(),-.:;? "


def build_random_vits(folder: Path, seed: int = 0) -> Path:
    """Write a small random-weight VITS (characters, no phonemizer) into `folder`."""
    import torch

    from voicebot.torchaudio_compat import import_torchaudio

    import_torchaudio()
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsArgs, VitsConfig
    from TTS.tts.models.vits import Vits

    torch.manual_seed(seed)
    args = VitsArgs(
        hidden_channels=32, hidden_channels_ffn_text_encoder=64, num_heads_text_encoder=2,
        num_layers_text_encoder=2, num_layers_posterior_encoder=2, num_layers_flow=1,
        resblock_type_decoder="2", resblock_kernel_sizes_decoder=[3],
        resblock_dilation_sizes_decoder=[[1, 2]], upsample_initial_channel_decoder=32,
        init_discriminator=False,  # inference only: the GAN discriminator is not saved
    )
    characters = CharactersConfig(
        characters_class="TTS.tts.models.vits.VitsCharacters", pad="<PAD>", eos="<EOS>",
        bos="<BOS>", blank="<BLNK>", characters=LETTERS, punctuations=PUNCTUATION,
        phonemes=None,
    )
    config = VitsConfig(model_args=args, use_phonemes=False, text_cleaner="english_cleaners",
                        characters=characters)
    config.audio.sample_rate = SAMPLE_RATE
    model = Vits(config)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict()}, folder / "model.pth")
    config.save_json(str(folder / "config.json"))
    return folder


def main(argv: list[str] | None = None) -> int:
    """`python -m voicebot.testing.coqui_vits FOLDER`: build one to try the backend with."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("folder", type=Path, help="where to write config.json and model.pth")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    folder = build_random_vits(args.folder, args.seed)
    print(f"wrote {folder / 'config.json'} and {folder / 'model.pth'} (random weights)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
