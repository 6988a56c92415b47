"""Weak type anchors learnt from the knowledge base and the question bank.

Red flags say *that* something is a scam; the words around them say *which* one ("网贷",
"游戏账号", "投注"). Every question about a type, its explanation and the knowledge entry
are tokenized with the engine's jieba instance; a word that appears mostly under one type
becomes a small, capped ranking weight for that type. Anchors re-rank types only; they never
raise the risk, so wording from the question bank cannot cause alarms by itself.
"""

from __future__ import annotations

from collections import Counter, defaultdict

MIN_COUNT = 2         # seen at least this often under the type
MIN_SHARE = 0.6       # share of all its occurrences that fall under the type
ANCHOR_WEIGHT = 0.8   # weight at share 1.0
STOP = frozenset(
    "诈骗 骗子 被骗 防骗 反诈 骗局 我们 你们 他们 对方 自己 一个 这个 那个 什么 怎么 如何 应该 可以 需要 不要 不能 没有 就是"
    " 正确 错误 以下 哪些 哪个 属于 说法 做法 选项 以上 因为 所以 如果 但是 而且 或者 还是 已经 还有 这样 这种 一定 可能 立即"
    " 拨打 报警 96110 110 核实 官方 渠道 转账 汇款 验证码 密码 银行卡 身份证 手机 电话 短信 微信 链接".split()
)


def _texts_by_type(engine, questions) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = defaultdict(list)
    for type_id, data in engine.types.items():
        entry = data.entry
        texts[type_id] += [entry.name, *entry.aliases, entry.summary, entry.warning]
    for q in questions:
        if q.scam_type in engine.types:
            correct = [o["text"] for o in q.options if o["key"] in q.answer and q.type != "judge"]
            texts[q.scam_type] += [q.stem, q.explanation, *correct]
    return texts


def learn_anchors(engine, questions) -> list[tuple[str, str, float]]:
    """(word, type_id, weight) for words specific to one scam type."""
    per_type: dict[str, Counter] = {}
    total: Counter = Counter()
    for type_id, texts in _texts_by_type(engine, questions).items():
        counts: Counter = Counter()
        for text in texts:
            for token in set(engine.tokenizer.lcut(text, HMM=False)):
                token = token.strip().lower()
                if len(token) < 2 or token in STOP or token.isascii():
                    continue
                counts[token] += 1
        per_type[type_id] = counts
        total.update(counts)
    anchors = []
    for type_id, counts in per_type.items():
        for token, n in counts.items():
            share = n / total[token]
            if n >= MIN_COUNT and share >= MIN_SHARE:
                anchors.append((token, type_id, round(ANCHOR_WEIGHT * share, 3)))
    return anchors
