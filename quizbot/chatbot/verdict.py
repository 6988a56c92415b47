"""The chatbot's answer as plain data (no Flask)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

RISK_LEVELS = ("high", "medium", "low")


@dataclass
class TypeMatch:
    """One scam type the text looks like, with the phrases (as written) that showed it."""

    id: str
    name: str
    score: float
    evidence: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    """What the engine concluded about one message.

    ``intent`` says what kind of message it was: ``assess`` (a situation to judge),
    ``emergency`` (money already moving), ``knowledge`` (a question about a scam type),
    ``clarify`` (too vague: ``reply`` asks one question), ``smalltalk`` (greeting, thanks, help)
    ``official`` (a 96110 / 12381 / 国家反诈中心 warning, or a question about them) or ``empty``.

    For a page that lays the answer out itself: ``emergency`` (money already moved: show the
    stop-payment steps first), ``evidence`` (the suspicious words exactly as the resident wrote
    them, each once) and ``advice`` (the steps in order: the type's own first, 96110/110 last).
    """

    risk: str
    risk_score: int
    scam_types: list[TypeMatch]
    reply: str
    intent: str = "assess"
    truncated: bool = False
    signals: list[str] = field(default_factory=list)
    emergency: bool = False
    evidence: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready dict (used by the HTTP API and the CLI)."""
        return asdict(self)

    def classify_record(self, record_id) -> dict:
        """The fixed batch-CLI line: id, risk, risk_score, scam_types[id, score, evidence]."""
        return {
            "id": record_id,
            "risk": self.risk,
            "risk_score": self.risk_score,
            "scam_types": [
                {"id": m.id, "score": round(m.score, 3), "evidence": m.evidence}
                for m in self.scam_types
            ],
        }
