"""Rebuild the held-out speech sets (/work/heldout/test and /work/heldout/tune) from fetched
snapshots of public repositories, and check each file against the sha256 recorded for it.

    .venv/bin/python scripts/heldout_set.py [--out /work/heldout] [--mirrors /work/.mirror]
    .venv/bin/python scripts/heldout_set.py --print   # durations and sha256 of what it builds

The recordings are real human speech taken from other projects' test data (docs/heldout/
SOURCES.md lists repository, commit, path and licence for each). `test` is the untuned set:
measure it at the start and at the end of a piece of work only, never tune on it. `tune` may
be analysed and tuned on. The manifests (docs/heldout/test.tsv, tune.tsv) are in the dev
set's format (file, duration_s, speaker_or_source, reference_text) plus speech_end_s (the
last word's acoustic end, marked by hand from the level profile), noise_floor_dbfs (the room
tone) and sha256; each is copied to <out>/<split>/manifest.tsv.

Each snapshot must have been fetched first (the search tool's `fetch github:OWNER/NAME`); it
lies at <mirrors>/OWNER+NAME/repo. Audio is read from the recorded commit with `git show`.
Files keep their own sample rate and are written as 16-bit PCM mono WAV (a stereo source whose
two channels are identical keeps its left channel). A `long_*` file is several consecutive
utterances of one speaker joined with 0.4 s of digital silence.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

DOCS = Path(__file__).resolve().parents[1] / "docs" / "heldout"
SPLITS = ("test", "tune")
JOIN_GAP_S = 0.4


@dataclass(frozen=True)
class Repo:
    name: str  # owner/name on GitHub
    commit: str


MSC = Repo("RichardSterry/msc-project", "638c3e775250ba3a7f050ae350b859648400f854")
PRA = Repo("LCAV/pyroomacoustics", "6fe43fecb7c358ac9aaa054e7e73641189f1afff")
VOSKJS = Repo("solyarisoftware/voskJs", "7fda8b402afb7fbee9f1eee700eabd5a00bf2ce2")
JOINLY = Repo("joinly-ai/joinly", "59472ff1bb6d74aea210537cfb7f8679732cd08a")
CATHY = Repo("rhasspy/dataset-voice-cathy", "c51cb971036a127359b43c621f26ca5081eab13e")


def _cathy(*stems: str) -> tuple[str, ...]:
    return tuple(f"data/{stem}.wav" for stem in stems)


CATHY_LONG_TEST = (
    "arctic_a0200_1592712768", "arctic_a0201_1592712729", "arctic_a0202_1592712546",
    "arctic_a0203_1592712535", "arctic_a0204_1592712520", "arctic_a0205_1592712495",
    "arctic_a0206_1592712461", "arctic_a0207_1592712443", "arctic_a0208_1592712429",
    "arctic_a0209_1592712415", "arctic_a0210_1592712387", "arctic_a0211_1592712371",
    "arctic_a0212_1592712315", "arctic_a0213_1592712297", "arctic_a0214_1592712268",
    "arctic_a0215_1592712257", "arctic_a0216_1592712231", "arctic_a0217_1592712200",
)
CATHY_LONG_TUNE = (
    "arctic_a0220_1592712126", "arctic_a0221_1592712100", "arctic_a0222_1592712076",
    "arctic_a0223_1592712058", "arctic_a0224_1592712042", "arctic_a0225_1592712028",
    "arctic_a0226_1592712016", "arctic_a0227_1592711976", "arctic_a0228_1592711950",
    "arctic_a0229_1592711929", "arctic_a0230_1592711917", "arctic_a0231_1592711889",
    "arctic_a0232_1592711859", "arctic_a0233_1592711831", "arctic_a0234_1592711715",
    "arctic_a0235_1592711687", "arctic_a0236_1592711665", "arctic_a0237_1592711654",
    "arctic_a0238_1592711595", "arctic_a0239_1592711579",
)

# file name -> (repository, path(s) at its commit); the manifests give split and reference.
ITEMS: dict[str, tuple[Repo, tuple[str, ...]]] = {
    **{f"vctk_{u}.wav": (MSC, (f"docs/vctk/samples/{u}.wav",))
       for u in ("p238_165", "p255_367", "p301_102", "p314_272", "p317_166", "p376_193")},
    **{f"arctic_{u}.wav": (PRA, (f"examples/input_samples/cmu_arctic_us_{u}.wav",))
       for u in ("aew_a0001", "aew_a0002", "aew_a0003", "axb_a0004", "axb_a0005",
                 "axb_a0006")},
    **{f"ls_{u}.wav": (VOSKJS, (f"audio/{u}.wav",))
       for u in ("2830-3980-0043", "4507-16021-0012", "8455-210777-0068")},
    "osr_us_000_0034_8k.wav": (JOINLY, ("tests/data/speech_audio/OSR_us_000_0034_8k.wav",)),
    "cathy_a0104.wav": (CATHY, _cathy("arctic_a0104_1592746172")),
    "cathy_a0106.wav": (CATHY, _cathy("arctic_a0106_1592746124")),
    "cathy_a0136.wav": (CATHY, _cathy("arctic_a0136_1592745516")),
    "cathy_a0111.wav": (CATHY, _cathy("arctic_a0111_1592746026")),
    "cathy_a0125.wav": (CATHY, _cathy("arctic_a0125_1592745717")),
    "cathy_a0138.wav": (CATHY, _cathy("arctic_a0138_1592745484")),
    "long_cathy_a0200_to_a0217.wav": (CATHY, _cathy(*CATHY_LONG_TEST)),
    "long_cathy_a0220_to_a0239.wav": (CATHY, _cathy(*CATHY_LONG_TUNE)),
}


class HeldoutError(Exception):
    """A problem the user can fix (a missing snapshot, a changed file); one line each."""


def git_dir(mirrors: Path, repo: Repo) -> Path:
    """The git directory of the fetched snapshot of `repo`, or a message saying how to get it."""
    base = mirrors / repo.name.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "objects").is_dir():
            return candidate
    raise HeldoutError(
        f"no snapshot of {repo.name} at {base}: fetch it first (the search tool's "
        f"`fetch github:{repo.name}`); the set needs commit {repo.commit}")


def read_blob(mirrors: Path, repo: Repo, path: str) -> bytes:
    gd = git_dir(mirrors, repo)
    out = subprocess.run(["git", "--git-dir", str(gd), "show", f"{repo.commit}:{path}"],
                         capture_output=True, check=False)
    if out.returncode != 0:
        detail = out.stderr.decode(errors="replace").strip().splitlines()
        raise HeldoutError(
            f"{repo.name}: cannot read {path} at {repo.commit[:12]} from {gd} "
            f"({detail[-1] if detail else 'git show failed'}); the snapshot may be newer "
            "or lack this file: fetch it again, or pick the file up from another snapshot")
    return out.stdout


def decode_mono(data: bytes, what: str) -> tuple[np.ndarray, int]:
    """16-bit samples of one channel (the left one; a stereo source must have equal
    channels, so nothing is lost) and the rate."""
    samples, rate = sf.read(io.BytesIO(data), dtype="int16", always_2d=True)
    if samples.shape[1] > 1 and not np.array_equal(samples[:, 0], samples[:, 1]):
        raise HeldoutError(f"{what}: the channels differ; this script expects equal channels")
    return np.ascontiguousarray(samples[:, 0]), int(rate)


def build(mirrors: Path, name: str) -> tuple[bytes, float]:
    """The WAV bytes of one held-out file and its duration in seconds."""
    if name not in ITEMS:
        raise HeldoutError(f"{name}: in a manifest but not in this script's ITEMS")
    repo, paths = ITEMS[name]
    parts: list[np.ndarray] = []
    rate = 0
    for path in paths:
        samples, r = decode_mono(read_blob(mirrors, repo, path), f"{repo.name}:{path}")
        if rate and r != rate:
            raise HeldoutError(f"{name}: {path} is at {r} Hz, the others at {rate} Hz")
        rate = r
        if parts:
            parts.append(np.zeros(round(JOIN_GAP_S * rate), dtype=np.int16))
        parts.append(samples)
    audio = np.concatenate(parts)
    buf = io.BytesIO()
    sf.write(buf, audio, rate, subtype="PCM_16", format="WAV")
    return buf.getvalue(), len(audio) / rate


def read_rows(split: str) -> list[dict[str, str]]:
    with (DOCS / f"{split}.tsv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/work/heldout"),
                        help="folder to write test/ and tune/ into (default /work/heldout)")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"),
                        help="where the fetched snapshots lie (default /work/.mirror)")
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="all")
    parser.add_argument("--print", action="store_true", dest="print_only",
                        help="build in memory and print file, duration and sha256; write nothing")
    args = parser.parse_args(argv)
    splits = SPLITS if args.split == "all" else (args.split,)
    bad = 0
    try:
        for split in splits:
            rows = read_rows(split)
            folder = args.out / split
            if not args.print_only:
                folder.mkdir(parents=True, exist_ok=True)
            for row in rows:
                data, duration = build(args.mirrors, row["file"])
                digest = hashlib.sha256(data).hexdigest()
                if args.print_only:
                    print(f"{split}\t{row['file']}\t{duration:.3f}\t{digest}")
                    continue
                if digest != row["sha256"]:
                    print(f"MISMATCH {split}/{row['file']}: sha256 {digest}, manifest says "
                          f"{row['sha256']}", file=sys.stderr)
                    bad += 1
                    continue
                (folder / row["file"]).write_bytes(data)
            if not args.print_only:
                shutil.copyfile(DOCS / f"{split}.tsv", folder / "manifest.tsv")
                print(f"{folder}: {len(rows)} files, "
                      f"{sum(float(r['duration_s']) for r in rows):.1f} s")
    except HeldoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if bad:
        print(f"{bad} file(s) differ from the recorded sha256 and were not written",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
