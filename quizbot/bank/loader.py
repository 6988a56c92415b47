"""Read question_bank/ into plain dataclasses. No Flask, no database."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml


class BankFormatError(Exception):
    """A file that cannot be read as a bank at all (missing, not YAML, wrong top-level shape)."""


@dataclass(frozen=True)
class RedFlag:
    phrase: str
    weight: float = 2.0


@dataclass(frozen=True)
class Combo:
    groups: tuple[tuple[str, ...], ...]
    weight: float = 4.0


@dataclass
class ScamTypeEntry:
    """One knowledge-base entry as written in scam_types.yaml."""

    id: str
    name: str
    kind: str = "scam"
    aliases: list[str] = field(default_factory=list)
    summary: str = ""
    red_flags: list[RedFlag] = field(default_factory=list)
    combos: list[Combo] = field(default_factory=list)
    warning: str = ""
    advice: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    position: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class QuestionEntry:
    """One question as written in questions/*.yaml."""

    id: str
    type: str
    stem: str
    options: list[dict[str, str]]
    answer: list[str]
    explanation: str
    scam_type: str
    difficulty: int
    audiences: list[str]
    source: str | None = None
    file: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def content_hash(self) -> str:
        """A stable hash of what a resident sees and how it is scored."""
        payload = {k: v for k, v in asdict(self).items() if k not in {"file", "raw"}}
        return _sha256(payload)


@dataclass
class Bank:
    """Everything in question_bank/: knowledge entries, questions and the content version."""

    scam_types: list[ScamTypeEntry]
    questions: list[QuestionEntry]
    intentional_duplicates: list[tuple[str, str]]
    version: str
    problems: list[str] = field(default_factory=list)  # shape problems found while reading
    # Extra chatbot phrases per scam type (chat_lexicon.yaml): how residents say it.
    lexicon: dict[str, list[RedFlag]] = field(default_factory=dict)

    def scam_type(self, type_id: str) -> ScamTypeEntry | None:
        return next((s for s in self.scam_types if s.id == type_id), None)


def _sha256(payload: Any) -> str:
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


# libyaml's loader when PyYAML was built with it: the bank loads ~5x faster.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise BankFormatError(f"{path.name}: 不是合法的 YAML：{exc}") from exc
    except UnicodeDecodeError as exc:
        raise BankFormatError(f"{path.name}: 不是 UTF-8 编码") from exc


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _parse_red_flag(item: Any) -> RedFlag | None:
    if isinstance(item, str):
        return RedFlag(item.strip())
    if isinstance(item, dict) and isinstance(item.get("phrase"), str):
        try:
            weight = float(item.get("weight", 2))
        except (TypeError, ValueError):
            return None
        return RedFlag(item["phrase"].strip(), weight)
    return None


def _parse_combo(item: Any) -> Combo | None:
    if not isinstance(item, dict) or not isinstance(item.get("all"), list):
        return None
    groups = []
    for group in item["all"]:
        words = tuple(str(w).strip() for w in _as_list(group) if str(w).strip())
        if not words:
            return None
        groups.append(words)
    try:
        weight = float(item.get("weight", 4))
    except (TypeError, ValueError):
        return None
    return Combo(tuple(groups), weight)


def parse_scam_types(data: Any, filename: str = "scam_types.yaml") -> tuple[list[ScamTypeEntry], list[str]]:
    """Turn the YAML list into entries, collecting shape problems instead of failing early."""
    problems: list[str] = []
    if not isinstance(data, list):
        raise BankFormatError(f"{filename}: 顶层必须是列表（list）")
    entries = []
    for index, item in enumerate(data):
        where = f"{filename} #{index + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            problems.append(f"{where}: 每一项必须是带 id 的映射")
            continue
        flags = []
        for raw_flag in _as_list(item.get("red_flags")):
            flag = _parse_red_flag(raw_flag)
            if flag is None or not flag.phrase:
                problems.append(f"{filename} [{item['id']}] red_flags: 无法识别的条目 {raw_flag!r}")
            else:
                flags.append(flag)
        combos = []
        for raw_combo in _as_list(item.get("combos")):
            combo = _parse_combo(raw_combo)
            if combo is None:
                problems.append(f"{filename} [{item['id']}] combos: 无法识别的条目 {raw_combo!r}")
            else:
                combos.append(combo)
        entries.append(
            ScamTypeEntry(
                id=item["id"],
                name=str(item.get("name") or ""),
                kind=str(item.get("kind") or "scam"),
                aliases=[str(a) for a in _as_list(item.get("aliases"))],
                summary=str(item.get("summary") or "").strip(),
                red_flags=flags,
                combos=combos,
                warning=str(item.get("warning") or "").strip(),
                advice=[str(a) for a in _as_list(item.get("advice"))],
                sources=[str(s) for s in _as_list(item.get("sources"))],
                position=index,
                raw=item,
            )
        )
    return entries, problems


def parse_questions(data: Any, filename: str) -> tuple[list[QuestionEntry], list[str]]:
    """Turn one questions file into entries, collecting shape problems."""
    problems: list[str] = []
    if data is None:
        return [], problems
    if not isinstance(data, list):
        raise BankFormatError(f"{filename}: 顶层必须是题目列表（list）")
    questions = []
    for index, item in enumerate(data):
        where = f"{filename} #{index + 1}"
        if not isinstance(item, dict):
            problems.append(f"{where}: 每道题必须是映射")
            continue
        qid = item.get("id")
        if not isinstance(qid, str) or not qid.strip():
            problems.append(f"{where}: 缺少 id")
            continue
        options = []
        for opt in _as_list(item.get("options")):
            if isinstance(opt, dict) and "key" in opt and "text" in opt:
                options.append({"key": str(opt["key"]), "text": str(opt["text"])})
            else:
                problems.append(f"{filename} [{qid}] options: 选项必须是 {{key, text}}，得到 {opt!r}")
        difficulty = item.get("difficulty")
        questions.append(
            QuestionEntry(
                id=qid.strip(),
                type=str(item.get("type") or ""),
                stem=str(item.get("stem") or "").strip(),
                options=options,
                answer=[str(a) for a in _as_list(item.get("answer"))],
                explanation=str(item.get("explanation") or "").strip(),
                scam_type=str(item.get("scam_type") or ""),
                difficulty=difficulty if isinstance(difficulty, int) else -1,
                audiences=[str(a) for a in _as_list(item.get("audiences"))],
                source=str(item["source"]) if item.get("source") is not None else None,
                file=filename,
                raw=item,
            )
        )
    return questions, problems


def load_bank(directory: str | Path) -> Bank:
    """Read a bank directory. Raises BankFormatError when a file cannot be read at all."""
    root = Path(directory)
    types_file = root / "scam_types.yaml"
    if not types_file.is_file():
        raise BankFormatError(f"找不到知识库文件 {types_file}")
    scam_types, problems = parse_scam_types(_read_yaml(types_file))
    questions: list[QuestionEntry] = []
    question_dir = root / "questions"
    for path in sorted(question_dir.glob("*.yaml")) if question_dir.is_dir() else []:
        parsed, file_problems = parse_questions(_read_yaml(path), f"questions/{path.name}")
        questions.extend(parsed)
        problems.extend(file_problems)
    pairs: list[tuple[str, str]] = []
    dup_file = root / "intentional_duplicates.yaml"
    if dup_file.is_file():
        for pair in _as_list(_read_yaml(dup_file)):
            if isinstance(pair, list) and len(pair) == 2:
                pairs.append((str(pair[0]), str(pair[1])))
            else:
                problems.append(f"intentional_duplicates.yaml: 每项必须是两个题目 id，得到 {pair!r}")
    lexicon: dict[str, list[RedFlag]] = {}
    lexicon_file = root / "chat_lexicon.yaml"
    if lexicon_file.is_file():
        data = _read_yaml(lexicon_file) or {}
        if not isinstance(data, dict):
            raise BankFormatError("chat_lexicon.yaml: 顶层必须是“类型 id → 短语列表”的映射")
        for type_id, items in data.items():
            flags = []
            for item in _as_list(items):
                flag = _parse_red_flag(item)
                if flag is None or not flag.phrase:
                    problems.append(f"chat_lexicon.yaml [{type_id}]: 无法识别的条目 {item!r}")
                else:
                    flags.append(flag)
            lexicon[str(type_id)] = flags
    version = _sha256(
        {
            "types": [s.raw for s in scam_types],
            "questions": sorted(q.content_hash() for q in questions),
        }
    )
    return Bank(scam_types, questions, pairs, version, problems, lexicon)
