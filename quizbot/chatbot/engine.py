"""The scam-check engine: normalize → tokenize → match → score → reply.

Built once per process from question_bank/scam_types.yaml and then read-only, so threads
and requests share it. Imports nothing from Flask.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import jieba

from ..bank import ScamTypeEntry, load_bank
from . import reply as replies
from .anchors import learn_anchors
from .matcher import FUZZY_FACTOR, Hit, PhraseIndex
from .normalize import normalize
from .signals import (
    ASKING,
    ASKS_ABOUT_OFFER,
    ASKS_WHAT_OFFICIAL,
    AVOIDED,
    CLAUSE_TAIL,
    DISTRESS,
    ENDS_AS_QUESTION,
    FIRST_PERSON,
    GENERAL_QUESTION,
    GENERIC_SIGNALS,
    HYPOTHETICAL,
    KIN_PERSON,
    KIN_TROUBLE,
    KNOWLEDGE_QUESTION,
    LEGIT_MARKERS,
    MONEY_ASK,
    MONEY_MOVED,
    MONEY_TAKEN,
    MONEY_WORDS,
    NEGATION,
    OFFICIAL_SOURCE,
    QUIZ_TALK,
    REMINDER,
    SECRECY,
    SITUATION,
    SMALLTALK,
    STRANGER_WORDS,
    VOICE_OR_FACE,
)
from .verdict import TypeMatch, Verdict

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)  # its start-up chatter is not our users' business

ALIAS_WEIGHT = 2.5
# Topics whose red flags describe a live danger (a stranger luring a child), scored like a type.
SCORED_TOPICS = frozenset({"child_safety"})
COMBO_WORD_WEIGHT = 0.75  # a word named in a combo is also weak evidence on its own
NEGATED_FACTOR = 0.25
GENERIC_FACTOR = 0.8
AVOIDED_FACTOR = 0.3
# risk_score = 100 * (1 - exp(-raw / SCALE)); thresholds on risk_score. Tuned on the team's
# cases and checked on the hold-out set (docs/chatbot.md has the figures).
SCALE = 6.0
HIGH_AT = 65
MEDIUM_AT = 35
MIN_TYPE_SCORE = 1.0  # below this a type is not named
# Safety floors, not measured: money already moved, or a relative's secret emergency, is high.
EMERGENCY_SCORE = 90
KIN_RANK_BONUS = 3.0  # puts the kin-emergency type first whatever the phrase scores say
# Signals that ask the resident to do something a real 96110/12381 warning never asks.
DEMAND_SIGNALS = frozenset({"pay_first", "credentials", "safe_account", "pay_fee",
                            "upfront_fee", "pay_to_unlock", "rent_account"})
# Money moved + phrases worth this much (one near-unique red flag) is an emergency; set by hand.
MOVED_MIN_FLAGS = 3.0
ANCHOR_CAP = 2.5
NEGATION_WINDOW = 8
_CLAUSE = re.compile(r"[^,.!?;:，。！？；：、]+")


@dataclass
class _TypeData:
    entry: ScamTypeEntry
    combos: list[tuple[tuple[frozenset[str], ...], float]] = field(default_factory=list)


class ChatEngine:
    """Classifies a resident's message against the knowledge base."""

    def __init__(self, scam_types: list[ScamTypeEntry], questions: list | None = None,
                 lexicon: dict | None = None) -> None:
        self.types: dict[str, _TypeData] = {}
        self.topics: dict[str, ScamTypeEntry] = {}
        self.index = PhraseIndex()
        self.names: dict[str, str] = {}  # canonical type name/alias -> type id (knowledge questions)
        for entry in scam_types:
            if entry.kind != "scam" and entry.id not in SCORED_TOPICS:
                self.topics[entry.id] = entry
                for alias in [entry.name, *entry.aliases]:
                    key = self.index.add(alias, entry.id, 0.0)
                    if key:
                        self.names[key] = entry.id
                continue
            data = _TypeData(entry)
            for flag in [*entry.red_flags, *(lexicon or {}).get(entry.id, [])]:
                self.index.add(flag.phrase, entry.id, flag.weight)
            for alias in [entry.name, *entry.aliases]:
                key = self.index.add(alias, entry.id, ALIAS_WEIGHT)
                if key:
                    self.names[key] = entry.id
            for combo in entry.combos:
                groups = []
                for group in combo.groups:
                    keys = {self.index.add(word, entry.id, COMBO_WORD_WEIGHT) for word in group}
                    groups.append(frozenset(k for k in keys if k))
                if all(groups):
                    data.combos.append((tuple(groups), combo.weight))
            self.types[entry.id] = data
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        for phrase in self.index.terms:
            self.tokenizer.add_word(phrase, freq=2000)
        for word, type_id, weight in learn_anchors(self, questions or []):
            self.index.add(word, type_id, weight, anchor=True)
        self.index.freeze()
        # Per phrase, the (type, weight, anchor) triples that can score: a flat tuple is the
        # cheapest thing to walk in the hot loop.
        self._terms = {
            key: tuple((t.type_id, t.weight, t.anchor) for t in terms
                       if t.type_id in self.types and t.weight > 0)
            for key, terms in self.index.terms.items()
        }
        self._anchor_only = frozenset(
            key for key, terms in self.index.terms.items() if all(t.anchor for t in terms))
        self._specificity = {
            key: 1.0 / math.sqrt(max(1, sum(1 for t in terms if t.weight > 0 and not t.anchor)))
            for key, terms in self.index.terms.items()
        }
        # word -> the combos it takes part in, so only combos with a found word are checked
        self._combos_by_word: dict[str, set[tuple[str, int]]] = {}
        for type_id, data in self.types.items():
            for n, (groups, _) in enumerate(data.combos):
                for group in groups:
                    for word in group:
                        self._combos_by_word.setdefault(word, set()).add((type_id, n))

    @classmethod
    def from_bank_dir(cls, directory: str | Path) -> ChatEngine:
        """Build from a question_bank/ directory."""
        bank = load_bank(directory)
        return cls(bank.scam_types, bank.questions, bank.lexicon)

    def warm(self) -> None:
        """Run one message through every stage so the first resident does not wait."""
        self.analyze("有人自称客服让我共享屏幕并报验证码，说要退款")

    def tokenize(self, text: str) -> list[str]:
        """jieba tokens of an already-normalized compact text (our own tokenizer instance)."""
        return self.tokenizer.lcut(text, HMM=False)

    # -- the pipeline -----------------------------------------------------------------

    def analyze(self, text: str) -> Verdict:
        """Classify one message and compose the reply. Never raises for any string."""
        norm = normalize(text if isinstance(text, str) else str(text))
        compact = norm.compact
        if not compact:
            return replies.empty()
        found = self.index.find(compact)
        # Two-character red flags must sit on a word boundary; anchors (ranking only) need not.
        # Only a hit that overlaps another dictionary word ("集中奖励" around "中奖") is ambiguous;
        # jieba decides those by tokenizing their clause.
        short = [h for h in found if len(h.phrase) == 2 and h.phrase not in self._anchor_only
                 and self._overlaps_word(compact, h)]
        boundaries = self._word_boundaries(compact, short)
        doubtful = {id(h) for h in short}
        hits = [h for h in found
                if id(h) not in doubtful or h.start in boundaries or h.end in boundaries]
        negated = {id(h) for h in hits if self._negated(compact, h.start)}
        flag_scores, rank_scores, kept = self._score_types(hits, negated, norm)
        signals = [s for s in GENERIC_SIGNALS if self._signal_present(s, compact)]
        generic = sum(s.weight for s in signals)
        situation = bool(SITUATION.search(compact))
        moved_at = MONEY_MOVED.search(compact)
        moved = (moved_at is not None and not self._negated(compact, moved_at.start())
                 and not HYPOTHETICAL.search(compact))
        # Money already gone to someone the resident now doubts: the emergency script, whatever
        # the type score ("给儿子转了八百块生活费" has no such doubt and stays an assessment).
        moved = moved and bool(MONEY_TAKEN.search(compact) or DISTRESS.search(compact)
                               or max(flag_scores.values(), default=0.0) >= MOVED_MIN_FLAGS
                               or any(s.id in DEMAND_SIGNALS for s in signals))
        official = OFFICIAL_SOURCE.search(compact) is not None
        demands = [s for s in signals if s.id in DEMAND_SIGNALS]
        if official and not moved and ASKS_WHAT_OFFICIAL.search(compact):
            return replies.official(norm.truncated, asked=True)
        if official and not moved and not demands:
            return replies.official(norm.truncated, asked=False)

        # Questions about scams in general ("怎么防范刷单诈骗？", "被骗了应该打什么电话？")
        # get the knowledge entry, not an alarm; questions about an offer ("靠谱吗") do not.
        question = ENDS_AS_QUESTION.search(compact) is not None
        if not (moved and (situation or FIRST_PERSON.search(compact))) and "您" not in compact and not ASKS_ABOUT_OFFER.search(compact) and (
            (not situation and (
                (len(compact) <= 80 and KNOWLEDGE_QUESTION.search(compact))
                or (len(compact) <= 60 and (GENERAL_QUESTION.search(compact) or question)
                    and not FIRST_PERSON.search(compact))))
            # "请问/听说 … 会让我下载会议软件吗？": asking about scams, not living one
            or (question and len(compact) <= 60 and ASKING.search(compact) and not moved)
        ):
            asked = self._asked_topic(compact, hits)
            if asked is None and (hits or "骗" in compact):
                ranked = sorted(rank_scores.items(), key=lambda kv: kv[1], reverse=True)
                asked = ranked[0][0] if ranked else "prevention_basics"
            if asked in self.types or asked in self.topics:
                entry = self.types[asked].entry if asked in self.types else self.topics[asked]
                return replies.knowledge(entry, norm.truncated)

        if (len(compact) <= 24 and SMALLTALK.match(compact) and not hits) or (
            len(compact) <= 40 and QUIZ_TALK.search(compact) and not situation
        ):
            return replies.smalltalk(compact, norm.truncated)

        top_flags = max(flag_scores.values(), default=0.0)
        raw = top_flags + GENERIC_FACTOR * generic
        legit = bool(LEGIT_MARKERS.search(compact))
        if legit and not any(s.id in ("safe_account", "remote_control") for s in signals):
            raw *= 0.5
        if not moved and AVOIDED.search(compact):
            raw *= AVOIDED_FACTOR
        if not moved and not situation and REMINDER.search(compact):
            raw *= 0.35

        risk_score = round(100 * (1 - math.exp(-raw / SCALE)))
        if moved:
            risk_score = max(risk_score, EMERGENCY_SCORE)
        kin_type = self._kin_emergency(compact)
        if kin_type:
            risk_score = max(risk_score, EMERGENCY_SCORE)
            rank_scores[kin_type] = max(rank_scores.values(), default=0.0) + KIN_RANK_BONUS
        risk = "high" if risk_score >= HIGH_AT else "medium" if risk_score >= MEDIUM_AT else "low"

        ranked = sorted(rank_scores.items(), key=lambda kv: kv[1], reverse=True)
        best = ranked[0][1] if ranked else 0.0
        matches = [
            TypeMatch(type_id, self.types[type_id].entry.name,
                      round(min(1.0, score / 10.0), 3), self._evidence(kept.get(type_id, []), norm))
            for type_id, score in ranked[:3]
            if score >= MIN_TYPE_SCORE and score >= 0.5 * best
        ] if risk != "low" else []
        reasons = [s.label for s in signals]

        if risk == "low" and len(compact) <= 30 and (
            MONEY_WORDS.search(compact) or STRANGER_WORDS.search(compact)
        ) and not legit:
            return replies.clarify(risk_score, reasons, norm.truncated)

        entries = [self.types[m.id].entry for m in matches]
        if moved:
            return replies.emergency(risk_score, matches, entries, reasons, norm.truncated, official,
                                     context=compact)
        return replies.assessment(risk, risk_score, matches, entries, reasons, norm.truncated, official,
                                  context=compact)

    # -- helpers ------------------------------------------------------------------------

    def _kin_emergency(self, compact: str) -> str | None:
        """A relative in sudden trouble asking for money in secret: ai_deepfake when the resident
        heard or saw them (voice, video, face), else impersonate_acquaintance."""
        if not (KIN_PERSON.search(compact) and KIN_TROUBLE.search(compact)
                and MONEY_ASK.search(compact) and SECRECY.search(compact)):
            return None
        if any(not self._negated(compact, m.start()) for m in SECRECY.finditer(compact)):
            kind = "ai_deepfake" if VOICE_OR_FACE.search(compact) else "impersonate_acquaintance"
            return kind if kind in self.types else None
        return None

    def _overlaps_word(self, compact: str, hit: Hit) -> bool:
        """Does a dictionary word straddle either edge of ``hit``?"""
        freq = self.tokenizer.FREQ
        start, end, n = hit.start, hit.end, len(compact)
        for a, b in ((start - 1, start + 1), (start - 2, start + 1), (end - 1, end + 1), (end - 1, end + 2)):
            if a >= 0 and b <= n and freq.get(compact[a:b]):
                return True
        return False

    def _word_boundaries(self, compact: str, short_hits: list[Hit]) -> set[int]:
        """Token boundaries (jieba) of the clauses that hold a two-character hit.

        A two-character phrase counts only where it lines up with a word boundary, so "中奖"
        is not found in "集中奖励". Clauses without such a hit need no tokenizing.
        """
        boundaries: set[int] = set()
        if not short_hits:
            return boundaries
        starts = [h.start for h in short_hits]
        for clause in _CLAUSE.finditer(compact):
            begin, end = clause.span()
            if not any(begin <= s < end for s in starts):
                continue
            pos = begin
            boundaries.add(pos)
            for token in self.tokenize(clause.group()):
                pos += len(token)
                boundaries.add(pos)
        return boundaries

    @staticmethod
    def _negated(compact: str, start: int) -> bool:
        """A negator shortly before ``start`` in the same clause ("不会让你转到安全账户")."""
        before = CLAUSE_TAIL.search(compact, max(0, start - NEGATION_WINDOW), start).group()
        return NEGATION.search(before) is not None

    def _signal_present(self, signal, compact: str) -> bool:
        """The signal matches somewhere that is not negated."""
        return any(not self._negated(compact, m.start()) for m in signal.pattern.finditer(compact))

    def _score_types(self, hits: list[Hit], negated: set[int], norm):
        """Per type: the red-flag score (drives risk), the ranking score and the evidence.

        The ranking score divides a phrase's weight by the square root of the number of types
        that list it ("保证金" says little about *which* scam) and adds the weak anchors
        learnt from the question bank, which never raise the risk on their own.
        """
        per_type: dict[str, dict[str, tuple[float, Hit]]] = {}
        anchors: dict[str, float] = {}
        found: set[str] = set()
        for hit in hits:
            found.add(hit.phrase)
            factor = (FUZZY_FACTOR if hit.fuzzy else 1.0) * (NEGATED_FACTOR if id(hit) in negated else 1.0)
            for type_id, weight, anchor in self._terms[hit.phrase]:
                if anchor:
                    anchors[type_id] = anchors.get(type_id, 0.0) + weight * factor
                    continue
                best = per_type.setdefault(type_id, {})
                value = weight * factor
                if hit.phrase not in best or best[hit.phrase][0] < value:
                    best[hit.phrase] = (value, hit)
        flags: dict[str, float] = {}
        rank: dict[str, float] = {}
        contained = _contained(hits, self._anchor_only)
        kept_by_type: dict[str, list[tuple[float, Hit]]] = {}
        specificity = self._specificity
        for type_id, phrases in per_type.items():
            kept = [(value, hit) for value, hit in phrases.values() if id(hit) not in contained]
            kept_by_type[type_id] = kept
            flags[type_id] = sum(value for value, _ in kept)
            rank[type_id] = sum(value * specificity[hit.phrase] for value, hit in kept)
        candidates = set()
        for word in found:
            candidates |= self._combos_by_word.get(word, set())
        for type_id, n in candidates:
            groups, weight = self.types[type_id].combos[n]
            if all(not group.isdisjoint(found) for group in groups):
                flags[type_id] = flags.get(type_id, 0.0) + weight
                rank[type_id] = rank.get(type_id, 0.0) + weight
        for type_id, value in anchors.items():
            rank[type_id] = rank.get(type_id, 0.0) + min(value, ANCHOR_CAP)
        return flags, rank, kept_by_type

    @staticmethod
    def _evidence(kept: list[tuple[float, Hit]], norm) -> list[str]:
        """The matched phrases as written, strongest first, at most six."""
        seen: list[str] = []
        for _, hit in sorted(kept, key=lambda vh: (-vh[0], vh[1].start)):
            span = norm.span(hit.start, hit.end)
            if span not in seen:
                seen.append(span)
                if len(seen) == 6:
                    break
        return seen

    def _asked_topic(self, compact: str, hits: list[Hit]) -> str | None:
        """The type or topic a question names (by name or alias), if any."""
        named = [h for h in hits if h.phrase in self.names and not h.fuzzy]
        if named:
            return self.names[max(named, key=lambda h: h.end - h.start).phrase]
        for word, topic in (("防骗", "prevention_basics"), ("反诈", "prevention_basics"),
                            ("96110", "prevention_basics"), ("诈骗", "prevention_basics"),
                            ("拐骗", "child_safety"), ("拐卖", "child_safety")):
            if word in compact and (topic in self.topics or topic in self.types):
                return topic
        return None


def _contained(hits: list[Hit], anchor_only: frozenset[str]) -> set[int]:
    """ids of hits lying inside a longer red-flag hit: the longer phrase is what was said."""
    spans = sorted(((h.start, h.end) for h in hits if h.phrase not in anchor_only),
                   key=lambda se: (se[0], -se[1]))
    out = set()
    for h in hits:
        for start, end in spans:
            if start > h.start:
                break
            if end >= h.end and end - start > h.end - h.start:
                out.add(id(h))
                break
    return out


_engines: dict[str, ChatEngine] = {}
_lock = threading.Lock()


def get_engine(bank_dir: str | Path) -> ChatEngine:
    """The process-wide engine for ``bank_dir`` (built and warmed on first use)."""
    key = str(Path(bank_dir).resolve())
    engine = _engines.get(key)
    if engine is None:
        with _lock:
            engine = _engines.get(key)
            if engine is None:
                engine = ChatEngine.from_bank_dir(key)
                engine.warm()
                _engines[key] = engine
    return engine
