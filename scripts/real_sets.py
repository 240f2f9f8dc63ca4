"""Real patients' messages from public pages (issue 23), split by page into training,
development and test parts, per language.

    .venv/bin/python scripts/real_sets.py add new.yml   # file new messages by their page's part
    .venv/bin/python scripts/real_sets.py data          # rewrite data/nlu/real_patients.yml (+ es/)
    .venv/bin/python scripts/real_sets.py stats         # counts per language, part, page and topic

A file to add is a YAML list of pages: {source, title (optional), language (en|es), messages:
[{text, topics, two_questions (optional), spanglish (optional)}]}. Each message lands in
tests/nlu/real/<part>_<language>.yml, where the part is decided by the page alone (`part_of`):
a hash of its address puts about 70% of pages in training, 15% in development and 15% in the
test set; a page the older development set (tests/nlu/patients_dev_pages.yml) already uses goes
to development, and a page of the older test set (tests/nlu/patients.yml) is refused.
The training part is also written, first topic only, as Rasa NLU examples under data/nlu/
(data/nlu/es/ for Spanish) with each page's address as a comment; the full labels stay in
tests/nlu/real/train_<language>.yml, under `trained_messages` (not `messages`: they are trained
on by design, and the sets under `messages` are checked never to be).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "nlu" / "real"
PARTS = ("train", "dev", "test")
LANGUAGES = ("en", "es")
DATA_FILE = {
    "en": ROOT / "data" / "nlu" / "real_patients.yml",
    "es": ROOT / "data" / "nlu" / "es" / "real_patients.yml",
}
OLD_TEST = ROOT / "tests" / "nlu" / "patients.yml"
OLD_DEV = ROOT / "tests" / "nlu" / "patients_dev_pages.yml"
TOPICS = ROOT / "docs" / "topics.md"
HEADER = {
    "train": """# Real patients' messages, training part ({language}), issue 23: the full labels (every acceptable
# topic key, best first) of the messages trained on in {data_file} (first key only there).
# Kept here so nobody labels them again. Under `trained_messages`, not `messages`: these ARE
# training data, and every set under `messages` is checked never to be.
""",
    "dev": """# Real patients' messages, development part ({language}), issue 23. Used to choose designs
# and thresholds; never trained on.
""",
    "test": """# Real patients' messages, TEST part ({language}), issue 23. Never trained on, never used to
# choose: the test set is printed only at the end of a round.
""",
}
COMMON_HEADER = """# Gathered from stored public web pages (forums, Q&A sites, ask-a-doctor questions, patient blogs
# and their comments; not clinics' or doctors' pages), copied as the patient wrote it (typos kept;
# a long post trimmed to its part about the HSG, marked "..."). One message is what one person
# wrote in one post or question. `topics`: every acceptable key of docs/topics.md, best first.
# Split BY PAGE (scripts/real_sets.py `part_of`): sha256 of the page address (no scheme, no www,
# no query, no trailing slash, lower case) modulo 20: 0-13 train, 14-16 dev, 17-19 test; a page
# of tests/nlu/patients_dev_pages.yml goes to dev, and no page of tests/nlu/patients.yml is used.
# Add messages with scripts/real_sets.py add; tests/test_real_sets.py checks the split.
"""


def page(url: str) -> str:
    """A page's address without scheme, www, query, fragment or trailing slash, lower case."""
    address = re.sub(r"^https?://(www\.)?", "", url.strip())
    return re.sub(r"[?#].*$", "", address).rstrip("/").lower()


def _pages_of(path: Path) -> set:
    content = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    return {page(m["source"]) for m in content if str(m.get("source", "")).startswith("http")}


def part_of(url: str, old_dev: set, old_test: set) -> str:
    """The part a page's messages belong to (see the module's docstring)."""
    address = page(url)
    if address in old_test:
        raise ValueError(f"page of the older test set, not usable: {url}")
    if address in old_dev:
        return "dev"
    bucket = int(hashlib.sha256(address.encode("utf-8")).hexdigest(), 16) % 20
    return "train" if bucket < 14 else "dev" if bucket < 17 else "test"


def topic_keys() -> Dict[str, str]:
    """{key: label} from docs/topics.md: faq/<key> for the retrieval table, else the key."""
    keys: Dict[str, str] = {}
    for section in re.split(r"^## ", TOPICS.read_text(encoding="utf-8"), flags=re.M)[1:]:
        heading, _, body = section.partition("\n")
        if heading.startswith("Topic keys"):
            for key in re.findall(r"^\|\s*([a-z_]+)\s*\|", body, re.M):
                if key != "key":
                    keys[key] = f"faq/{key}" if "faq/<key>" in heading else key
    return keys


def normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def set_path(part: str, language: str) -> Path:
    return REAL / f"{part}_{language}.yml"


def read_set(part: str, language: str) -> List[dict]:
    path = set_path(part, language)
    if not path.exists():
        return []
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(content.get("trained_messages" if part == "train" else "messages") or [])


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def write_set(part: str, language: str, messages: List[dict]) -> None:
    header = HEADER[part].format(
        language={"en": "English", "es": "Spanish"}[language], data_file=DATA_FILE[language].relative_to(ROOT)
    )
    lines = [header + COMMON_HEADER.rstrip("\n"), ("trained_messages:" if part == "train" else "messages:")]
    for m in messages:
        lines.append(f"  - text: {_q(m['text'])}")
        lines.append(f"    topics: [{', '.join(m['topics'])}]")
        if m.get("two_questions"):
            lines.append("    two_questions: true")
        lines.append(f"    language: {m['language']}")
        if m.get("spanglish"):
            lines.append("    spanglish: true")
        lines.append(f"    source: {_q(m['source'])}")
        if m.get("title"):
            lines.append(f"    title: {_q(m['title'])}")
    REAL.mkdir(parents=True, exist_ok=True)
    set_path(part, language).write_text("\n".join(lines) + "\n", encoding="utf-8")


def known_texts() -> set:
    """The normalised text (and its runs of words) of every message of every set under tests/nlu,
    and the normalised examples of data/nlu."""
    texts = set()
    for path in list((ROOT / "tests" / "nlu").rglob("*.yml")) + list((ROOT / "data" / "nlu").rglob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in ("messages", "trained_messages", "urgent", "not_urgent"):
            for m in content.get(key) or []:
                texts.add(normal(m["text"]))
                texts.update(shingles(m["text"]))
        for block in content.get("nlu") or []:
            texts.update(
                normal(line.strip()[2:])
                for line in str(block.get("examples", "")).splitlines()
                if line.strip().startswith("- ")
            )
    return texts


def shingles(text: str, size: int = 5) -> set:
    """The text's runs of `size` words (normalised): two messages sharing most of them are one."""
    words = normal(text).split()
    return {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


def _seen_before(text: str, seen: set) -> bool:
    """The text, or most of it (a trimmed copy of a message), is already in a set."""
    runs = shingles(text)
    return normal(text) in seen or sum(run in seen for run in runs) >= 0.5 * len(runs)


def _check(message: dict, keys: Dict[str, str], seen: set) -> bool:
    """False for a message already in a set, whole or mostly (skipped); raises on a malformed one."""
    text = " ".join(str(message["text"]).split())
    if not text:
        raise ValueError("empty message")
    if _seen_before(text, seen):
        print(f"skipped, already in a set: {text[:70]!r}")
        return False
    unknown = [key for key in message["topics"] if key not in keys]
    if unknown or not message["topics"] or len(set(message["topics"])) != len(message["topics"]):
        raise ValueError(f"bad topics {message['topics']}: {text!r}")
    if re.search(r"\]\s*[({]", text):
        raise ValueError(f"looks like Rasa entity markup: {text!r}")
    return True


def add(path: Path) -> None:
    """Files the messages of `path` (a list of pages) into the sets by page; checks them first."""
    keys, seen = topic_keys(), known_texts()
    old_dev, old_test = _pages_of(OLD_DEV), _pages_of(OLD_TEST)
    sets = {(p, lang): read_set(p, lang) for p in PARTS for lang in LANGUAGES}
    added = collections.Counter()
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        language, source = entry["language"], entry["source"]
        assert language in LANGUAGES, language
        if page(source) in old_test:
            print(f"skipped, a page of the older test set: {source}")
            continue
        part = part_of(source, old_dev, old_test)
        for message in entry["messages"]:
            if not _check(message, keys, seen):
                continue
            text = " ".join(str(message["text"]).split())
            seen.add(normal(text))
            seen.update(shingles(text))
            record = {
                "text": text,
                "topics": list(message["topics"]),
                "two_questions": bool(message.get("two_questions")),
                "language": language,
                "spanglish": bool(message.get("spanglish")),
                "source": source,
                "title": entry.get("title"),
            }
            sets[(part, language)].append(record)
            added[(part, language)] += 1
    for (part, language), messages in sets.items():
        if messages:
            write_set(part, language, messages)
    write_data()
    print("added:", dict(added))


def write_data() -> None:
    """data/nlu/real_patients.yml and data/nlu/es/real_patients.yml from the training part:
    each message under its first topic, grouped by page, the page's address as a comment."""
    keys = topic_keys()
    for language in LANGUAGES:
        by_page: Dict[str, Dict[str, List[str]]] = collections.OrderedDict()
        for m in read_set("train", language):
            by_page.setdefault(m["source"], collections.OrderedDict()).setdefault(keys[m["topics"][0]], []).append(
                m["text"]
            )
        lines = [
            'version: "3.1"',
            "# Real patients' messages (issue 23), the training part of the pages split in",
            f"# tests/nlu/real/ (full labels in tests/nlu/real/train_{language}.yml). Written by",
            "# scripts/real_sets.py data: edit the labels there, not here. First topic key only.",
            "nlu:",
        ]
        for source, intents in by_page.items():
            lines.append(f"# {source}")
            for label, texts in intents.items():
                lines.append(f"- intent: {label}")
                if language != "en":
                    lines += ["  metadata:", f"    language: {language}"]
                lines.append("  examples: |")
                lines += [f"    - {text}" for text in texts]
        DATA_FILE[language].write_text("\n".join(lines) + "\n", encoding="utf-8")


def stats() -> None:
    for language in LANGUAGES:
        for part in PARTS:
            messages = read_set(part, language)
            pages = {page(m["source"]) for m in messages}
            two = sum(bool(m.get("two_questions")) for m in messages)
            print(f"{language} {part:5}: {len(messages):4} messages, {len(pages):3} pages, {two} with two questions")
        counts = collections.Counter(m["topics"][0] for part in PARTS for m in read_set(part, language))
        print(f"{language} first topics:", ", ".join(f"{k} {n}" for k, n in counts.most_common()))


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["add", "data", "stats"])
    parser.add_argument("file", nargs="?")
    args = parser.parse_args(argv)
    if args.command == "add":
        add(Path(args.file))
    elif args.command == "data":
        write_data()
    else:
        stats()


if __name__ == "__main__":
    main(sys.argv[1:])
