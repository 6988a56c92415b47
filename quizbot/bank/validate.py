"""The bank's quality gate: shape rules, floors and near-duplicate stems.

Every problem names the file, the entry id and the field, so an editor can fix it at once.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .loader import Bank
from .taxonomy import ALL_IDS, AUDIENCES, QUESTION_TYPES, SCAM_TYPE_IDS, TOPIC_IDS

DUPLICATE_THRESHOLD = 90
ELDERLY_STEM_MAX = 60
WARNING_MAX = 60

# Answer cues (issue #14): a quiz that "always pick the longest" or "always B" passes measures
# nothing. Shares are checked on the canonical keys, before per-session shuffling.
LONGEST_SHARE_MAX = 0.35   # single-choice answers that are the strictly longest option
KEY_SHARE_MAX = 0.40       # single-choice answers on any one key, per file and in the bank
CORRECT_COUNT_SHARE_MAX = 0.60  # multiple-choice questions with the same number of correct keys
SHARE_MIN_SAMPLE = 5       # a share is judged only over at least this many questions

# Text a resident cannot see: seed-document parts ("§15"), drills, leaflets, pictures.
UNSEEN_MATERIAL = re.compile(
    r"§|演练中|演练里|演练时|宣传材料|宣传单上|材料里|材料中|上述材料|案例材料|如图|图中|上图|下图|视频中所示"
)


@dataclass(frozen=True)
class Floors:
    """Minimum counts the bank must reach (issue #3); ``Floors.none()`` for small test banks."""

    total_questions: int = 360
    per_scam_type: int = 12
    per_topic: dict | None = None
    per_question_type: int = 60
    per_audience: int = 40
    red_flags_per_scam_type: int = 15
    every_difficulty_per_scam_type: bool = True
    require_all_taxonomy_ids: bool = True
    # The answer-cue shares (longest option, key balance, correct-count spread) describe a
    # whole bank; tiny test banks switch them off with ``Floors.none()``.
    answer_cues: bool = True

    def topic_floor(self, topic: str) -> int:
        floors = self.per_topic if self.per_topic is not None else {
            "prevention_basics": 30, "child_safety": 8}
        return floors.get(topic, 0)

    @classmethod
    def none(cls) -> Floors:
        return cls(0, 0, {}, 0, 0, 0, False, False, False)


def _check_scam_types(bank: Bank, floors: Floors) -> list[str]:
    errors = []
    seen: set[str] = set()
    for entry in bank.scam_types:
        where = f"scam_types.yaml [{entry.id}]"
        if entry.id in seen:
            errors.append(f"{where} id: 重复的 id")
        seen.add(entry.id)
        if entry.id not in ALL_IDS:
            errors.append(f"{where} id: 不在 TAXONOMY.md 的类型列表中")
        expected_kind = "topic" if entry.id in TOPIC_IDS else "scam"
        if entry.id in ALL_IDS and entry.kind != expected_kind:
            errors.append(f"{where} kind: 应为 {expected_kind}")
        for name in ("name", "summary", "warning"):
            if not getattr(entry, name):
                errors.append(f"{where} {name}: 不能为空")
        if len(entry.warning) > WARNING_MAX:
            errors.append(f"{where} warning: 超过 {WARNING_MAX} 个字（现有 {len(entry.warning)}）")
        if not 2 <= len(entry.advice) <= 5:
            errors.append(f"{where} advice: 需要 2–5 条（现有 {len(entry.advice)}）")
        if not entry.sources:
            errors.append(f"{where} sources: 不能为空")
        if entry.kind == "scam" and len(entry.red_flags) < floors.red_flags_per_scam_type:
            errors.append(
                f"{where} red_flags: 至少 {floors.red_flags_per_scam_type} 条（现有 {len(entry.red_flags)}）"
            )
        for flag in entry.red_flags:
            if not 0 < flag.weight <= 10:
                errors.append(f"{where} red_flags: “{flag.phrase}” 的 weight 应在 (0, 10]")
    if floors.require_all_taxonomy_ids:
        for missing in sorted(set(ALL_IDS) - seen):
            errors.append(f"scam_types.yaml [{missing}]: TAXONOMY.md 中的类型缺少知识条目")
    return errors


def _check_question(q, known_types: set[str]) -> list[str]:
    where = f"{q.file} [{q.id}]"
    errors = []
    if q.type not in QUESTION_TYPES:
        errors.append(f"{where} type: 必须是 single / multiple / judge，得到 {q.type!r}")
    if not q.stem:
        errors.append(f"{where} stem: 不能为空")
    if not q.explanation:
        errors.append(f"{where} explanation: 不能为空")
    keys = [o["key"] for o in q.options]
    if len(set(keys)) != len(keys):
        errors.append(f"{where} options: 选项 key 重复")
    if any(not o["text"].strip() for o in q.options):
        errors.append(f"{where} options: 选项文字不能为空")
    if q.type == "judge":
        if sorted(keys) != ["F", "T"]:
            errors.append(f"{where} options: 判断题的选项必须是 T 和 F")
        if len(q.answer) != 1:
            errors.append(f"{where} answer: 判断题只能有一个答案")
    elif not 2 <= len(q.options) <= 6:
        errors.append(f"{where} options: 需要 2–6 个选项（现有 {len(q.options)}）")
    if q.type == "single" and len(q.answer) != 1:
        errors.append(f"{where} answer: 单选题必须恰好一个答案（现有 {len(q.answer)}）")
    if q.type == "multiple" and len(q.answer) < 2:
        errors.append(f"{where} answer: 多选题至少两个正确答案（现有 {len(q.answer)}）")
    if len(set(q.answer)) != len(q.answer):
        errors.append(f"{where} answer: 答案重复")
    for key in q.answer:
        if key not in keys:
            errors.append(f"{where} answer: {key!r} 不在选项中")
    if q.scam_type not in known_types:
        errors.append(f"{where} scam_type: {q.scam_type!r} 不是知识库中的类型")
    if q.difficulty not in (1, 2, 3):
        errors.append(f"{where} difficulty: 必须是 1、2 或 3")
    if not q.audiences:
        errors.append(f"{where} audiences: 至少一个受众标签")
    for tag in q.audiences:
        if tag not in AUDIENCES:
            errors.append(f"{where} audiences: {tag!r} 不是 TAXONOMY.md 中的受众标签")
    for name, text in (("stem", q.stem), ("explanation", q.explanation),
                       ("options", " ".join(o["text"] for o in q.options))):
        found = UNSEEN_MATERIAL.search(text)
        if found:
            errors.append(f"{where} {name}: 不能引用居民看不到的材料（“{found.group(0)}”），"
                          "出处写在 source 字段")
    if "elderly" in q.audiences and len(q.stem) > ELDERLY_STEM_MAX:
        errors.append(
            f"{where} stem: 面向老年人的题干不超过 {ELDERLY_STEM_MAX} 字（现有 {len(q.stem)}）"
        )
    return errors


def is_strictly_longest(q) -> bool:
    """True when the (single) correct option is longer than every other option."""
    lengths = {o["key"]: len(o["text"]) for o in q.options}
    if len(q.answer) != 1 or q.answer[0] not in lengths:
        return False
    own = lengths[q.answer[0]]
    return all(own > n for k, n in lengths.items() if k != q.answer[0])


def _share(count: int, total: int) -> str:
    return f"{count}/{total} = {count / total:.0%}"


def _check_answer_cues(bank: Bank) -> list[str]:
    """The shares that would let a resident pass without knowing anything."""
    errors = []
    singles = [q for q in bank.questions if q.type == "single" and len(q.answer) == 1]
    if len(singles) >= SHARE_MIN_SAMPLE:
        longest = sum(is_strictly_longest(q) for q in singles)
        if longest > LONGEST_SHARE_MAX * len(singles):
            errors.append(f"questions/ answer: 单选题的正确答案是最长选项的占 {_share(longest, len(singles))}，"
                          f"不能超过 {LONGEST_SHARE_MAX:.0%}（请把正确选项写成普通长度，理由放进解析）")
    groups: dict[str, list] = {"questions/（全库）": singles}
    for q in singles:
        groups.setdefault(q.file, []).append(q)
    for where, items in groups.items():
        if len(items) < SHARE_MIN_SAMPLE:
            continue
        key, count = Counter(q.answer[0] for q in items).most_common(1)[0]
        if count > KEY_SHARE_MAX * len(items):
            errors.append(f"{where} answer: 单选题答案 {key} 占 {_share(count, len(items))}，"
                          f"任何一个字母不能超过 {KEY_SHARE_MAX:.0%}")
    multiples = [q for q in bank.questions if q.type == "multiple"]
    if len(multiples) >= SHARE_MIN_SAMPLE:
        size, count = Counter(len(q.answer) for q in multiples).most_common(1)[0]
        if count > CORRECT_COUNT_SHARE_MAX * len(multiples):
            errors.append(f"questions/ answer: 多选题中恰好 {size} 个正确答案的占 {_share(count, len(multiples))}，"
                          f"不能超过 {CORRECT_COUNT_SHARE_MAX:.0%}（请混合 2、3、4 个正确答案）")
    return errors


_PUNCT = re.compile(r"[\s，。？！、；：“”‘’（）《》…,.?!;:()\"'\-—]")


def _bigrams(text: str) -> set[str]:
    text = _PUNCT.sub("|", text)
    return {text[i:i + 2] for i in range(len(text) - 1) if "|" not in text[i:i + 2]}


def _pick(q, score) -> float:
    """Credit for picking the top-scoring option; ties share the credit (a fair coin among them)."""
    scores = [score(o["text"]) for o in q.options]
    best = max(scores)
    tied = [o["key"] for o, s in zip(q.options, scores, strict=True) if s == best]
    return (q.answer[0] in tied) / len(tied)


def naive_strategy_scores(bank: Bank) -> dict[str, float]:
    """What three know-nothing strategies score on the single-choice questions (0–1).

    ``longest`` picks the longest option, ``always_b`` picks B, ``stem_keywords`` picks the
    option sharing the most two-character words with the stem. Ties share the credit.
    """
    singles = [q for q in bank.questions if q.type == "single" and len(q.answer) == 1]
    if not singles:
        return {"longest": 0.0, "always_b": 0.0, "stem_keywords": 0.0}
    total = len(singles)
    return {
        "longest": sum(_pick(q, len) for q in singles) / total,
        "always_b": sum(q.answer[0] == "B" for q in singles) / total,
        "stem_keywords": sum(
            _pick(q, lambda text, stem=_bigrams(q.stem): len(stem & _bigrams(text))) for q in singles
        ) / total,
    }


def near_duplicate_pairs(bank: Bank, threshold: int = DUPLICATE_THRESHOLD) -> list[tuple[str, str, float]]:
    """Pairs of question ids whose stems score ≥ threshold with token_set_ratio."""
    stems = [q.stem for q in bank.questions]
    ids = [q.id for q in bank.questions]
    if len(stems) < 2:
        return []
    pairs = []
    for i, stem in enumerate(stems[:-1]):
        # extract() with a cutoff skips most pairs cheaply; numpy is not needed.
        for _, score, j in process.extract(stem, stems[i + 1:], scorer=fuzz.token_set_ratio,
                                           score_cutoff=threshold, limit=None):
            pairs.append((ids[i], ids[i + 1 + j], float(score)))
    return pairs


def validate_bank(bank: Bank, floors: Floors | None = None) -> list[str]:
    """Return every problem in the bank; an empty list means it may be imported."""
    floors = floors or Floors()
    errors = list(bank.problems)
    errors += _check_scam_types(bank, floors)
    known_types = {s.id for s in bank.scam_types}
    for type_id, flags in bank.lexicon.items():
        if type_id not in SCAM_TYPE_IDS:
            errors.append(f"chat_lexicon.yaml [{type_id}]: 不是 TAXONOMY.md 中的诈骗类型")
        for flag in flags:
            if not 0 < flag.weight <= 10:
                errors.append(f"chat_lexicon.yaml [{type_id}]: “{flag.phrase}” 的 weight 应在 (0, 10]")
    ids = Counter(q.id for q in bank.questions)
    for qid, count in ids.items():
        if count > 1:
            files = sorted({q.file for q in bank.questions if q.id == qid})
            errors.append(f"{', '.join(files)} [{qid}] id: 重复 {count} 次")
    for q in bank.questions:
        errors += _check_question(q, known_types)
    if floors.answer_cues:
        errors += _check_answer_cues(bank)

    allowed = {frozenset(p) for p in bank.intentional_duplicates}
    for a, b, score in near_duplicate_pairs(bank):
        if frozenset((a, b)) not in allowed:
            errors.append(
                f"[{a}] 与 [{b}] stem: 题干过于相似（token_set_ratio {score:.0f} ≥ "
                f"{DUPLICATE_THRESHOLD}），请改写或写入 intentional_duplicates.yaml"
            )

    counts = Counter(q.scam_type for q in bank.questions)
    if len(bank.questions) < floors.total_questions:
        errors.append(f"questions/: 题目总数至少 {floors.total_questions}（现有 {len(bank.questions)}）")
    for type_id in SCAM_TYPE_IDS if floors.per_scam_type else ():
        if counts[type_id] < floors.per_scam_type:
            errors.append(f"questions/ [{type_id}]: 至少 {floors.per_scam_type} 道题（现有 {counts[type_id]}）")
    for topic in TOPIC_IDS:
        if counts[topic] < floors.topic_floor(topic):
            errors.append(f"questions/ [{topic}]: 至少 {floors.topic_floor(topic)} 道题（现有 {counts[topic]}）")
    by_qtype = Counter(q.type for q in bank.questions)
    for qtype, label in QUESTION_TYPES.items():
        if by_qtype[qtype] < floors.per_question_type:
            errors.append(f"questions/: {label}题至少 {floors.per_question_type} 道（现有 {by_qtype[qtype]}）")
    by_audience = Counter(tag for q in bank.questions for tag in set(q.audiences))
    for tag in AUDIENCES:
        if by_audience[tag] < floors.per_audience:
            errors.append(f"questions/: 受众 {tag} 至少 {floors.per_audience} 道题（现有 {by_audience[tag]}）")
    if floors.every_difficulty_per_scam_type:
        levels: dict[str, set[int]] = defaultdict(set)
        for q in bank.questions:
            levels[q.scam_type].add(q.difficulty)
        for type_id in SCAM_TYPE_IDS:
            missing = {1, 2, 3} - levels[type_id]
            if missing:
                errors.append(
                    f"questions/ [{type_id}] difficulty: 缺少难度 {', '.join(map(str, sorted(missing)))} 的题"
                )
    return errors


def count_table(bank: Bank) -> str:
    """Counts per scam type × question type × difficulty, then per audience, as text."""
    cells: Counter = Counter((q.scam_type, q.type, q.difficulty) for q in bank.questions)
    qtypes = list(QUESTION_TYPES)
    header = ["scam_type".ljust(26)] + [f"{t[:3]}{d}" for t in qtypes for d in (1, 2, 3)] + ["total"]
    lines = ["  ".join(h.rjust(5) if i else h for i, h in enumerate(header))]
    type_ids = [s.id for s in bank.scam_types] or list(ALL_IDS)
    for type_id in type_ids:
        row = [cells[(type_id, t, d)] for t in qtypes for d in (1, 2, 3)]
        lines.append("  ".join([type_id.ljust(26)] + [str(n).rjust(5) for n in row + [sum(row)]]))
    totals = [sum(cells[(s, t, d)] for s in type_ids) for t in qtypes for d in (1, 2, 3)]
    lines.append("  ".join(["TOTAL".ljust(26)] + [str(n).rjust(5) for n in totals + [sum(totals)]]))
    lines.append("")
    by_audience = Counter(tag for q in bank.questions for tag in set(q.audiences))
    lines.append("audience".ljust(26) + "  questions")
    for tag in AUDIENCES:
        lines.append(f"{tag.ljust(26)}  {by_audience[tag]:>9}")
    lines.append("")
    lines.append("naive strategies on single choice (each must stay <= 40%)")
    for name, score in naive_strategy_scores(bank).items():
        lines.append(f"{name.ljust(26)}  {score:>9.1%}")
    return "\n".join(lines)
