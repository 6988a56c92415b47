"""The scam-check engine: normalize → inspect → route → score → rank → reply.

``inspect`` runs the hand-written rules (phrases, combos, generic signals); ``score`` and
``rank`` read the learned weights (``model.py``, ``weights.json``) over the rules' findings
and the text's n-grams, under a safety floor the weights cannot lower (``safety_floor``).
Built once per process from question_bank/scam_types.yaml and then read-only, so threads
and requests share it. Imports nothing from Flask.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import jieba

from ..bank import ScamTypeEntry, load_bank
from . import reply as replies
from .anchors import learn_anchors
from .features import Features, extract
from .matcher import FUZZY_FACTOR, Hit, PhraseIndex
from .model import WEIGHTS_FILE, LearnedModel
from .normalize import Normalized, normalize
from .segment import WordEnds
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
    NEGATOR_CHAR,
    NEGATORS,
    OFFICIAL_SOURCE,
    QUIZ_TALK,
    REMINDER,
    SECRECY,
    SITUATION,
    SMALLTALK,
    STRANGER_WORDS,
    VOICE_OR_FACE,
    Signal,
)
from .verdict import TypeMatch, Verdict

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)  # its start-up chatter is not our users' business

# -- factors of the hand-written rules (session 1, set by hand on tests/data/chat_cases.yaml;
#    with learned weights they only shape the rule features and the safety floor) -----------
ALIAS_WEIGHT = 2.5  # a type's name or alias in the text: set by hand, session 1
# Topics whose red flags describe a live danger (a stranger luring a child), scored like a type.
SCORED_TOPICS = frozenset({"child_safety"})
COMBO_WORD_WEIGHT = 0.75  # a word named in a combo is also weak evidence on its own; by hand
NEGATED_FACTOR = 0.25  # "不会让你转到安全账户" counts a quarter; by hand, session 1
GENERIC_FACTOR = 0.8  # generic signals relative to red flags; by hand, session 1
LEGIT_FACTOR = 0.5  # "请勿泄露", "退订" halve the rules' score; by hand, session 1
AVOIDED_FACTOR = 0.3  # "我直接挂了" damps the rules' score; by hand, session 1
REMINDER_FACTOR = 0.35  # forwarded "凡是…都是诈骗" reminders; by hand, session 1
SCALE = 6.0  # rules' risk_score = 100 * (1 - exp(-raw / SCALE)); by hand, session 1
MIN_TYPE_SCORE = 1.0  # rules only: below this ranking score a type is not named; by hand
MOVED_MIN_FLAGS = 3.0  # money moved + red flags worth this much is an emergency; by hand
ANCHOR_CAP = 2.5  # anchors (question-bank words) add at most this to a type's ranking; by hand
NEGATION_WINDOW = 8  # characters before a phrase searched for a negator; by hand
HYPOTHETICAL_WINDOW = 8  # characters before "转了/被骗了" searched for 如果/万一…; by hand, session 5
SHORT_TEXT = 30  # "short" and "long" markers for the learned model (characters); by hand
LONG_TEXT = 200
# -- the risk scale (published in the API docs; the learned thresholds are mapped onto it) ----
HIGH_AT = 65
MEDIUM_AT = 35
# -- safety floor: not learned, these hold whatever the weights say -------------------------
EMERGENCY_SCORE = 90  # money already moved, or a relative's secret emergency: high
# A rules' score this high stays at least medium under learned weights, whatever the length:
# chosen on the corpus as the lowest value reached by at most 0.1% of its ordinary texts.
STRONG_RULES_AT = 98
# One message (up to SHORT_MESSAGE characters) is where the learned n-grams know least and the
# phrases are most precise: there the rules' verdict is a floor. Set by hand; what each costs
# in ordinary corpus texts warned is measured in docs/chatbot.md (the trainer's thresholds
# count these floors in, so the total stays at the target).
SHORT_MESSAGE = 40
SHORT_MEDIUM_AT = 65  # rules' score on a short message that keeps it at least medium
SHORT_HIGH_AT = 85  # rules' score on a short message that keeps it high
# Signals that ask the resident to do something a real 96110/12381 warning never asks.
DEMAND_SIGNALS = frozenset({"pay_first", "credentials", "safe_account", "pay_fee",
                            "upfront_fee", "pay_to_unlock", "rent_account"})
# -- naming types ------------------------------------------------------------------------------
MAX_TYPES = 3  # types named in a verdict; by hand (a phone screen)
TYPE_MIN_PROBABILITY = 0.2  # learned: a second or third type is named only above this; by hand
# learned: the first type is named below this only when one of its own red flags is in the text;
# by hand, session 5 (with the shipped weights it unnames 2 of the corpus's 15,667 scam texts)
NAME_MIN_PROBABILITY = 0.4
NEXT_TYPE_SHARE = 0.5  # ... and only at half the first type's score or more; by hand, session 1
RULES_TYPE_SCALE = 10.0  # rules only: ranking score / this = the 0–1 type score shown; by hand
# -- routing by length (characters of the compact text; by hand, session 1) ---------------------
SMALLTALK_MAX = 24  # a greeting or thanks is short
QUIZ_TALK_MAX = 40  # talk about the quiz ("这道题选哪个")
CLARIFY_MAX = 30  # a vague money question gets one question back
KNOWLEDGE_MAX = 80  # "怎么防范…" questions about scams in general
QUESTION_MAX = 60  # other general questions
_SEPARATORS = ",.!?;:，。！？；：、"  # what ends a clause for tokenizing
# Characters of context jieba reads on each side of a doubtful two-character hit: measured on
# the corpus and cases, 6 keeps exactly the hits the whole clause keeps on all 17,186 texts
# (3 or 4: 4 texts differ).
WORD_WINDOW = 6
_CLAUSE = re.compile(f"[^{_SEPARATORS}]+")
_SEPARATOR_CHAR = re.compile(f"[{_SEPARATORS}]")


@dataclass
class Findings:
    """What ``ChatEngine.inspect`` found in one message; read by route, score, rank and reply."""

    norm: Normalized
    compact: str
    hits: list[Hit]
    flags: dict[str, float]  # type -> red-flag score (distinct phrases + combos)
    rank: dict[str, float]  # type -> ranking score (phrases weighted by specificity + anchors)
    kept: dict[str, list[tuple[float, Hit]]]  # type -> (value, hit) quoted as evidence
    combos: set[str]  # types with a combo found
    signals: list[Signal]
    markers: dict[str, bool]
    kin_type: str | None  # a relative's secret emergency: ai_deepfake / impersonate_acquaintance
    rules_score: int = 0


@dataclass
class _TypeData:
    entry: ScamTypeEntry
    combos: list[tuple[tuple[frozenset[str], ...], float]] = field(default_factory=list)


class ChatEngine:
    """Classifies a resident's message against the knowledge base."""

    def __init__(self, scam_types: list[ScamTypeEntry], questions: list | None = None,
                 lexicon: dict | None = None, model: LearnedModel | None = None) -> None:
        self.model: LearnedModel | None = model
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
        self._nameable_ids = frozenset(self.types) | frozenset(self.topics)
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        for phrase in self.index.terms:
            self.tokenizer.add_word(phrase, freq=2000)
        self._word_ends = WordEnds(self.tokenizer)  # after add_word: it reads the final total
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
        # phrases that are only combo words (COMBO_WORD_WEIGHT), never a red flag of their own
        self._combo_only = frozenset(
            key for key, terms in self.index.terms.items()
            if all(t.anchor or t.weight <= COMBO_WORD_WEIGHT for t in terms))
        self._anchor_only = frozenset(
            key for key, terms in self.index.terms.items() if all(t.anchor for t in terms))
        self._specificity = {
            key: 1.0 / math.sqrt(max(1, sum(1 for t in terms if t.weight > 0 and not t.anchor)))
            for key, terms in self.index.terms.items()
        }
        # Every combo as (type, groups, weight). A combo needs a word of each of its groups, so
        # it is indexed by the words of its first group only: a message is checked against the
        # few combos whose first group it touches (about 4 per message, instead of 13 when
        # indexed by every word).
        self._combos: list[tuple[str, tuple[frozenset[str], ...], float]] = [
            (type_id, groups, weight)
            for type_id, data in self.types.items() for groups, weight in data.combos]
        by_word: dict[str, list[int]] = {}
        for n, (_, groups, _) in enumerate(self._combos):
            for word in groups[0]:
                by_word.setdefault(word, []).append(n)
        self._combos_by_word: dict[str, tuple[int, ...]] = {w: tuple(ns) for w, ns in by_word.items()}

    @classmethod
    def from_bank_dir(cls, directory: str | Path, weights: str | Path | None = WEIGHTS_FILE) -> ChatEngine:
        """Build from a question_bank/ directory and the learned weights (None: rules only)."""
        bank = load_bank(directory)
        model = LearnedModel.load(weights) if weights is not None else None
        entries = sorted(e.id for e in bank.scam_types)
        if model is not None and model.bank_entries and model.bank_entries != entries:
            # The weights read this knowledge base's rule features: another bank (a test's
            # mini bank, a trimmed copy) gets the hand-written rules instead.
            log.info("learned weights were trained for other knowledge entries; using the rules")
            model = None
        return cls(bank.scam_types, bank.questions, bank.lexicon, model)

    def warm(self) -> None:
        """Run one message through every stage so the first resident does not wait."""
        self.analyze("有人自称客服让我共享屏幕并报验证码，说要退款")

    # -- the pipeline: inspect → route → score → rank → reply ------------------------------

    def analyze(self, text: str) -> Verdict:
        """Classify one message and compose the reply. Never raises for any string."""
        norm = normalize(text if isinstance(text, str) else str(text))
        if not norm.compact:
            return replies.empty()
        found = self.inspect(norm)
        routed = self.route(found)
        if routed is not None:
            return routed
        risk_score, feats = self.score(found)
        risk = "high" if risk_score >= HIGH_AT else "medium" if risk_score >= MEDIUM_AT else "low"
        if risk == "low":
            return self.reply(found, risk, risk_score, [])
        types = None
        if feats is not None:  # features exist only when there is a model to read them
            types, lost = self.model.types_and_moved(feats)
            if lost >= self.model.moved_threshold and not found.markers["moved"]:
                # the learned reading of money already gone, in wording the rules do not know
                found.markers["moved"] = True
                risk, risk_score = "high", max(risk_score, EMERGENCY_SCORE)
        return self.reply(found, risk, risk_score, self.rank(found, types))

    def inspect(self, norm: Normalized) -> Findings:
        """Everything the hand-written rules see in a message: phrase hits per type, combos,
        generic signals and the markers (money moved, a legitimate notice, a reminder …)."""
        compact = norm.compact
        found = self.index.find(compact)
        # Two-character red flags must sit on a word boundary; anchors (ranking only) need not.
        # Only a hit that overlaps another dictionary word ("集中奖励" around "中奖") is ambiguous;
        # jieba decides those by tokenizing their clause.
        short = [h for h in found if len(h.phrase) == 2 and h.phrase not in self._anchor_only]
        if short:
            short = self._overlapping(compact, short)
        if short:
            boundaries = self._word_boundaries(compact, short)
            doubtful = {id(h) for h in short}
            hits = [h for h in found
                    if id(h) not in doubtful or h.start in boundaries or h.end in boundaries]
        else:
            hits = found
        # About half the messages hold no character a negator begins with: nothing is negated.
        if NEGATOR_CHAR.search(compact):
            negated = {id(h) for h in hits if self._negated(compact, h.start)}
            signals = [s for s in GENERIC_SIGNALS if self._signal_present(s, compact)]
        else:
            negated = set()
            signals = [s for s in GENERIC_SIGNALS if s.pattern.search(compact)]
        flags, rank, kept, combos = self._score_types(hits, negated)
        situation = bool(SITUATION.search(compact))
        moved = self._money_moved(compact)
        # Money already gone to someone the resident now doubts: the emergency script, whatever
        # the type score ("给儿子转了八百块生活费" has no such doubt and stays an assessment).
        moved = moved and bool(MONEY_TAKEN.search(compact) or DISTRESS.search(compact)
                               or max(flags.values(), default=0.0) >= MOVED_MIN_FLAGS
                               or any(s.id in DEMAND_SIGNALS for s in signals))
        markers = {
            "moved": moved,
            "official": OFFICIAL_SOURCE.search(compact) is not None,
            "legit": LEGIT_MARKERS.search(compact) is not None,
            "avoided": AVOIDED.search(compact) is not None,
            "reminder": REMINDER.search(compact) is not None,
            "situation": situation,
            "question": ENDS_AS_QUESTION.search(compact) is not None,
            "first_person": FIRST_PERSON.search(compact) is not None,
            "asks_offer": ASKS_ABOUT_OFFER.search(compact) is not None,
            "negated": bool(negated),
            "demands": any(s.id in DEMAND_SIGNALS for s in signals),
            "short": len(compact) <= SHORT_TEXT,
            "long": len(compact) > LONG_TEXT,
        }
        kin_type = self._kin_emergency(compact)
        markers["kin"] = kin_type is not None
        found_ = Findings(norm, compact, hits, flags, rank, kept, combos, signals, markers, kin_type)
        found_.rules_score = rules_score(found_)
        return found_

    def route(self, f: Findings) -> Verdict | None:
        """Messages that are not a situation to judge: a genuine official warning or a question
        about one, a question about scams in general, small talk. None means: assess it."""
        compact, markers = f.compact, f.markers
        moved = markers["moved"]
        if markers["official"] and not moved and ASKS_WHAT_OFFICIAL.search(compact):
            return replies.official(f.norm.truncated, asked=True)
        if markers["official"] and not moved and not markers["demands"]:
            return replies.official(f.norm.truncated, asked=False)
        if self._is_general_question(f):
            asked = self._asked_topic(compact, f.hits)
            if asked is None and (f.hits or "骗" in compact):
                ranked = sorted(f.rank.items(), key=lambda kv: kv[1], reverse=True)
                asked = ranked[0][0] if ranked else "prevention_basics"
            if asked in self.types or asked in self.topics:
                entry = self.types[asked].entry if asked in self.types else self.topics[asked]
                return replies.knowledge(entry, f.norm.truncated)
        if (len(compact) <= SMALLTALK_MAX and SMALLTALK.match(compact) and not f.hits) or (
            len(compact) <= QUIZ_TALK_MAX and QUIZ_TALK.search(compact) and not markers["situation"]
        ):
            return replies.smalltalk(compact, f.norm.truncated)
        return None

    def score(self, f: Findings) -> tuple[int, Features | None]:
        """The risk score (0–100) and the features it was read from.

        With learned weights the score is the scam regression's probability on the scale where
        its thresholds sit at ``MEDIUM_AT`` and ``HIGH_AT``; without them, the rules' score.
        Either way the safety floor holds: money already moved or a relative's secret emergency
        is high, and a strong rule finding is at least medium.
        """
        if self.model is None:
            return max(f.rules_score, safety_floor(f)), None
        feats = extract(f)
        risk_score = self.model.risk_score(self.model.scam_probability(feats), MEDIUM_AT, HIGH_AT)
        return max(risk_score, safety_floor(f)), feats

    def rank(self, f: Findings, types: list[tuple[str, float]] | None) -> list[TypeMatch]:
        """Up to three types the message looks like, most likely first, each with the red
        flags (as written) that point to it. A relative's secret emergency always comes first.

        ``types`` are the learned type probabilities (None: rank by the rules' scores)."""
        if types is not None:
            # at most MAX_TYPES are named, one more in case the kin type is moved to the front
            nameable = self._nameable_ids
            ranked = list(islice((tp for tp in types if tp[0] in nameable), MAX_TYPES + 1))
            floor = TYPE_MIN_PROBABILITY
        else:
            best_rank = max(f.rank.values(), default=0.0)
            ranked = [(t, min(1.0, s / RULES_TYPE_SCALE)) for t, s in
                      sorted(f.rank.items(), key=lambda kv: kv[1], reverse=True)
                      if s >= MIN_TYPE_SCORE and s >= NEXT_TYPE_SHARE * best_rank]
            floor = 0.0
        if f.kin_type:
            ranked = [(f.kin_type, 1.0), *[(t, p) for t, p in ranked if t != f.kin_type]]
        elif types is not None and ranked and ranked[0][1] < NAME_MIN_PROBABILITY \
                and not f.kept.get(ranked[0][0]):
            # A guess with nothing of its own in the text ("被骗了八千块钱怎么办" is not a
            # 网络招嫖 case because that type came out first at 0.25): name no type at all.
            ranked = []
        best = ranked[0][1] if ranked else 0.0
        chosen = [(t, p) for n, (t, p) in enumerate(ranked[:MAX_TYPES])
                  if n == 0 or (p >= floor and p >= NEXT_TYPE_SHARE * best)]
        matches = []
        combo_only = self._combo_only
        for type_id, p in chosen:
            quoted = f.kept.get(type_id)
            if not quoted and not matches:
                # The learned type has no red flag of its own in the text: quote the strongest
                # red flags that are there (never n-grams, which may be everyday words), but no
                # word that counts only inside another type's combo (块钱, 截图, 女儿, 大学生):
                # alone, and away from that type, those are everyday words.
                quoted = sorted((vh for kept in f.kept.values() for vh in kept
                                 if vh[1].phrase not in combo_only),
                                key=lambda vh: -vh[0])[:2]
            matches.append(TypeMatch(type_id, self._entry(type_id).name, round(p, 3),
                                     self._evidence(quoted or [], f.norm)))
        return matches

    def reply(self, f: Findings, risk: str, risk_score: int, matches: list[TypeMatch]) -> Verdict:
        """Compose the answer: clarify a vague money question, the emergency script when money
        has moved, else the assessment."""
        reasons = [s.label for s in f.signals]
        compact = f.compact
        if risk == "low" and len(compact) <= CLARIFY_MAX and (
            MONEY_WORDS.search(compact) or STRANGER_WORDS.search(compact)
        ) and not f.markers["legit"]:
            return replies.clarify(risk_score, reasons, f.norm.truncated)
        entries = [self._entry(m.id) for m in matches]
        official = f.markers["official"]
        if f.markers["moved"]:
            return replies.emergency(risk_score, matches, entries, reasons, f.norm.truncated, official,
                                     context=compact)
        return replies.assessment(risk, risk_score, matches, entries, reasons, f.norm.truncated,
                                  official, context=compact)

    # -- helpers ------------------------------------------------------------------------

    def _is_general_question(self, f: Findings) -> bool:
        """A question about scams in general ("怎么防范刷单诈骗？", "被骗了应该打什么电话？"),
        not the resident's own situation and not a question about an offer ("靠谱吗")."""
        compact, markers = f.compact, f.markers
        # "被骗了八千块钱怎么办" names no one but is someone's loss: the emergency script answers
        # it (and the general "被骗了怎么办" as well: stop, 110, the bank, the evidence)
        if markers["moved"]:
            return False
        if "您" in compact or markers["asks_offer"]:
            return False
        n = len(compact)
        if not markers["situation"]:
            if n <= KNOWLEDGE_MAX and KNOWLEDGE_QUESTION.search(compact):
                return True
            if n <= QUESTION_MAX and (GENERAL_QUESTION.search(compact) or markers["question"]) \
                    and not markers["first_person"]:
                return True
        # "请问/听说 … 会让我下载会议软件吗？": asking about scams, not living one
        return markers["question"] and n <= QUESTION_MAX and ASKING.search(compact) is not None \
            and not markers["moved"]

    def _entry(self, type_id: str) -> ScamTypeEntry:
        return self.types[type_id].entry if type_id in self.types else self.topics[type_id]

    def _kin_emergency(self, compact: str) -> str | None:
        """A relative in sudden trouble asking for money in secret: ai_deepfake when the resident
        heard or saw them (voice, video, face), else impersonate_acquaintance."""
        # the rarest conditions first: most messages stop at the first search
        if not (KIN_TROUBLE.search(compact) and SECRECY.search(compact)
                and KIN_PERSON.search(compact) and MONEY_ASK.search(compact)):
            return None
        if any(not self._negated(compact, m.start()) for m in SECRECY.finditer(compact)):
            kind = "ai_deepfake" if VOICE_OR_FACE.search(compact) else "impersonate_acquaintance"
            return kind if kind in self.types else None
        return None

    def _overlapping(self, compact: str, hits: list[Hit]) -> list[Hit]:
        """The hits a dictionary word straddles, across either edge ("集中奖励" around "中奖")."""
        # the two- and three-character words across the start, then across the end (one loop
        # over the hits, not a call per hit: this runs for every two-character hit)
        get = self.tokenizer.FREQ.get
        n = len(compact)
        out = []
        for hit in hits:
            start, end = hit.start, hit.end
            if start >= 1 and (get(compact[start - 1:start + 1])
                               or start >= 2 and get(compact[start - 2:start + 1])):
                out.append(hit)
                continue
            if end >= n:
                continue
            after = get(compact[end - 1:end + 1])
            # jieba's FREQ holds every prefix of its words (frequency 0 when not a word itself),
            # so when these two characters are not even a prefix no three-character word begins
            # there.
            if after or after is not None and end + 2 <= n and get(compact[end - 1:end + 2]):
                out.append(hit)
        return out

    def _word_boundaries(self, compact: str, short_hits: list[Hit]) -> set[int]:
        """Token boundaries (jieba) of the clauses that hold a two-character hit.

        A two-character phrase counts only where it lines up with a word boundary, so "中奖"
        is not found in "集中奖励". Clauses without such a hit need no tokenizing.
        """
        boundaries: set[int] = set()
        if not short_hits:
            return boundaries
        # The first and last positions of a clause are boundaries whatever jieba says, so a hit
        # that begins or ends its clause needs no tokenizing (one clause in five, on the bench
        # corpus). Unless a phrase holds a separator and could span two clauses.
        n = len(compact)
        starts = []
        for h in short_hits:
            if _SEPARATOR_CHAR.search(h.phrase):
                starts = [h.start for h in short_hits]
                break
            if h.start == 0 or compact[h.start - 1] in _SEPARATORS:
                boundaries.add(h.start)
            elif h.end == n or compact[h.end] in _SEPARATORS:
                boundaries.add(h.end)
            else:
                starts.append(h.start)
        for clause in _CLAUSE.finditer(compact) if starts else ():
            begin, end = clause.span()
            inside = [s for s in starts if begin <= s < end]
            if not inside:
                continue
            # jieba reads a window of the clause around the hits, not the whole clause: where
            # a word boundary falls depends on the few characters around it (WORD_WINDOW).
            lo, hi = max(begin, min(inside) - WORD_WINDOW), min(end, max(inside) + 2 + WORD_WINDOW)
            ends = self._word_ends(compact[lo:hi])
            if lo == begin:
                boundaries.add(lo)
            # the window's own last end is a boundary only where the clause ends too
            boundaries.update(lo + e for e in (ends[:-1] if hi < end else ends))
        return boundaries

    @staticmethod
    def _negated(compact: str, start: int) -> bool:
        """A negator shortly before ``start`` in the same clause ("不会让你转到安全账户")."""
        window = max(0, start - NEGATION_WINDOW)
        if NEGATORS.isdisjoint(compact[window:start]):
            return False  # most windows: no negator can begin there
        before = CLAUSE_TAIL.search(compact, window, start).group()
        return NEGATION.search(before) is not None

    def _money_moved(self, compact: str) -> bool:
        """Some wording of money already paid or taken that is neither negated ("没有转") nor
        hypothetical ("如果被骗了怎么办", "是不是被骗了" after "我已经转了五千" still counts)."""
        for m in MONEY_MOVED.finditer(compact):
            start = m.start()
            if not self._negated(compact, start) and HYPOTHETICAL.search(
                    compact, max(0, start - HYPOTHETICAL_WINDOW), start) is None:
                return True
        return False

    def _signal_present(self, signal, compact: str) -> bool:
        """The signal matches somewhere that is not negated."""
        first = signal.pattern.search(compact)
        if first is None:
            return False
        if not self._negated(compact, first.start()):
            return True
        return any(not self._negated(compact, m.start())
                   for m in signal.pattern.finditer(compact, first.end()))

    def _score_types(self, hits: list[Hit], negated: set[int]):
        """Per type: the red-flag score, the ranking score, the evidence and the combos found.

        The ranking score divides a phrase's weight by the square root of the number of types
        that list it ("保证金" says little about *which* scam) and adds the weak anchors
        learnt from the question bank, which never raise the risk on their own.
        """
        per_type: dict[str, dict[str, tuple[float, Hit]]] = {}
        anchors: dict[str, float] = {}
        terms = self._terms
        for hit in hits:
            phrase = hit.phrase
            factor = FUZZY_FACTOR if hit.fuzzy else 1.0
            if negated and id(hit) in negated:
                factor *= NEGATED_FACTOR
            for type_id, weight, anchor in terms[phrase]:
                if anchor:
                    anchors[type_id] = anchors.get(type_id, 0.0) + weight * factor
                    continue
                best = per_type.get(type_id)
                if best is None:
                    best = per_type[type_id] = {}
                value = weight * factor
                previous = best.get(phrase)
                if previous is None or previous[0] < value:
                    best[phrase] = (value, hit)
        flags: dict[str, float] = {}
        rank: dict[str, float] = {}
        contained = _contained(hits, self._anchor_only)
        kept_by_type: dict[str, list[tuple[float, Hit]]] = {}
        specificity = self._specificity
        for type_id, phrases in per_type.items():
            kept = []
            flag = ranking = 0.0
            for value, hit in phrases.values():
                if id(hit) not in contained:
                    kept.append((value, hit))
                    flag += value
                    ranking += value * specificity[hit.phrase]
            kept_by_type[type_id] = kept
            flags[type_id] = flag
            rank[type_id] = ranking
        combos: set[str] = set()
        by_word = self._combos_by_word
        found = {hit.phrase for hit in hits}
        candidates = sorted({n for word in found if word in by_word for n in by_word[word]})
        for n in candidates:  # in index order, so the sums below never depend on set order
            type_id, groups, weight = self._combos[n]
            for group in groups:
                if group.isdisjoint(found):
                    break
            else:
                flags[type_id] = flags.get(type_id, 0.0) + weight
                rank[type_id] = rank.get(type_id, 0.0) + weight
                combos.add(type_id)
        for type_id, value in anchors.items():
            rank[type_id] = rank.get(type_id, 0.0) + min(value, ANCHOR_CAP)
        return flags, rank, kept_by_type, combos

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


def rules_score(f: Findings) -> int:
    """The hand-written rules' risk score (session 1): the best type's red flags plus the generic
    signals, damped for legitimate notices, "already avoided" and forwarded reminders.

    Without learned weights this is the risk score; with them it is one feature among many and
    the safety floor (``STRONG_RULES_AT``)."""
    raw = max(f.flags.values(), default=0.0) + GENERIC_FACTOR * sum(s.weight for s in f.signals)
    markers = f.markers
    if markers["legit"] and not any(s.id in ("safe_account", "remote_control") for s in f.signals):
        raw *= LEGIT_FACTOR
    if not markers["moved"] and markers["avoided"]:
        raw *= AVOIDED_FACTOR
    if not markers["moved"] and not markers["situation"] and markers["reminder"]:
        raw *= REMINDER_FACTOR
    return round(100 * (1 - math.exp(-raw / SCALE)))


def safety_floor(f: Findings) -> int:
    """The least risk score a message gets whatever the learned weights say (0: no floor)."""
    if f.markers["moved"] or f.kin_type:
        return EMERGENCY_SCORE
    if len(f.compact) <= SHORT_MESSAGE and f.rules_score >= SHORT_HIGH_AT:
        return HIGH_AT
    if f.rules_score >= STRONG_RULES_AT or (
            len(f.compact) <= SHORT_MESSAGE and f.rules_score >= SHORT_MEDIUM_AT):
        return MEDIUM_AT
    return 0


def _contained(hits: list[Hit], anchor_only: frozenset[str]) -> set[int]:
    """ids of hits lying inside a longer red-flag hit: the longer phrase is what was said.

    ``hits`` come ordered by start, longest first (as ``PhraseIndex.find`` returns them), so
    one pass suffices: a hit is inside a longer one when a red-flag hit that starts earlier
    reaches at least as far, or one that starts at the same place reaches further.
    """
    out = set()
    reach = -1  # furthest end of the red-flag hits starting before the current start
    start, longest = -1, -1  # the current start and the furthest end of red flags there
    for h in hits:
        if h.start != start:
            reach = max(reach, longest)
            start, longest = h.start, -1
        if reach >= h.end or longest > h.end:
            out.add(id(h))
        if h.end > longest and h.phrase not in anchor_only:
            longest = h.end
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
