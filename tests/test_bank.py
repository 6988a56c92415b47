"""Question bank: loading, the validator's rules and floors, idempotent import."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from quizbot.bank import Floors, count_table, load_bank, validate_bank
from quizbot.extensions import db
from quizbot.models import BankVersion, Question
from quizbot.services import bank as bank_service
from tests.conftest import make_question, make_scam_type, mini_bank_content, write_bank

NO_FLOORS = Floors.none()


def errors_for(tmp_path, types=None, questions=None, intentional=None):
    base_types, base_questions = mini_bank_content()
    bank_dir = write_bank(tmp_path / "b", types or base_types,
                          base_questions if questions is None else questions, intentional)
    return validate_bank(load_bank(bank_dir), NO_FLOORS)


def test_mini_bank_is_valid(mini_bank_dir):
    assert validate_bank(load_bank(mini_bank_dir), NO_FLOORS) == []


def test_error_names_file_id_and_field(tmp_path):
    bad = make_question("q-bad", "fake_authority", answer=["Z"], stem="一个独特的题干，用来测试错误信息")
    _, questions = mini_bank_content()
    errors = errors_for(tmp_path, questions=questions + [bad])
    assert any("questions/fake_authority.yaml [q-bad] answer" in e and "Z" in e for e in errors)


def test_shape_rules(tmp_path):
    _, base = mini_bank_content()
    cases = {
        "type": make_question("x1", "fake_authority", type="essay", stem="题干一：完全不同的场景描述甲"),
        "single": make_question("x2", "fake_authority", answer=["A", "B"], stem="题干二：另一种场景乙乙乙"),
        "multiple": make_question("x3", "fake_authority", type="multiple", answer=["A"],
                                  stem="题干三：多选题只给一个答案的情况丙"),
        "judge": make_question("x4", "fake_authority", type="judge", answer=["T"],
                               stem="题干四：判断题用了 ABC 选项丁丁"),
        "options": make_question("x5", "fake_authority", options=[{"key": "A", "text": "只有一个"}],
                                 answer=["A"], stem="题干五：只有一个选项的题戊戊戊"),
        "scam_type": make_question("x6", "no_such_type", stem="题干六：类型不存在的题己己己"),
        "difficulty": make_question("x7", "fake_authority", difficulty=5, stem="题干七：难度超出范围庚庚"),
        "audiences": make_question("x8", "fake_authority", audiences=["martians"], stem="题干八：受众标签未知辛辛"),
        "explanation": make_question("x9", "fake_authority", explanation="", stem="题干九：没有解析的题壬壬壬"),
    }
    errors = errors_for(tmp_path, questions=base + list(cases.values()))
    for field, q in cases.items():
        assert any(f"[{q['id']}]" in e for e in errors), (field, errors)


def test_elderly_stem_length(tmp_path):
    _, base = mini_bank_content()
    long_q = make_question("old", "fake_authority", audiences=["elderly"], stem="长" * 61)
    errors = errors_for(tmp_path, questions=base + [long_q])
    assert any("[old] stem" in e and "60" in e for e in errors)


def test_duplicate_ids_and_near_duplicate_stems(tmp_path):
    _, base = mini_bank_content()
    dup_id = dict(base[0], stem="完全不同的另一道题，问的是别的事情")
    near = dict(base[1], id="near-1", stem=base[1]["stem"] + "？")
    errors = errors_for(tmp_path, questions=base + [dup_id, near])
    assert any(f"[{base[0]['id']}] id" in e for e in errors)
    assert any("near-1" in e and "相似" in e for e in errors)


def test_intentional_duplicates_are_allowed(tmp_path):
    _, base = mini_bank_content()
    near = dict(base[1], id="near-1", stem=base[1]["stem"] + "？")
    errors = errors_for(tmp_path, questions=base + [near], intentional=[[base[1]["id"], "near-1"]])
    assert not any("相似" in e for e in errors)


def test_knowledge_entry_rules(tmp_path):
    types = [make_scam_type("fake_authority", warning="长" * 61, advice=["只有一条"]),
             make_scam_type("shuadan_rebate", id="not_in_taxonomy"),
             make_scam_type("fake_customer_service")]
    errors = errors_for(tmp_path, types=types)
    assert any("[fake_authority] warning" in e for e in errors)
    assert any("[fake_authority] advice" in e for e in errors)
    assert any("[not_in_taxonomy] id" in e for e in errors)


def test_floors_are_enforced(mini_bank_dir):
    errors = validate_bank(load_bank(mini_bank_dir), Floors())
    assert any("题目总数至少 360" in e for e in errors)
    assert any("[pension_fraud]" in e and "TAXONOMY" in e for e in errors)
    assert any("受众 parent 至少 40" in e for e in errors)
    assert any("[fake_authority] red_flags" in e for e in errors)


def test_count_table_lists_types_and_audiences(mini_bank_dir):
    table = count_table(load_bank(mini_bank_dir))
    assert "fake_authority" in table and "elderly" in table and "TOTAL" in table


def test_import_is_idempotent_and_retires_removed_questions(app, tmp_path):
    types, questions = mini_bank_content()
    bank_dir = write_bank(tmp_path / "b", types, questions)
    with app.app_context():
        first = bank_service.import_bank(load_bank(bank_dir))
        again = bank_service.import_bank(load_bank(bank_dir))
        assert (first.created, first.new_version) == (18, True)
        assert (again.created, again.updated, again.unchanged, again.new_version) == (0, 0, 18, False)
        assert db.session.execute(sa.select(sa.func.count()).select_from(BankVersion)).scalar() == 1

        removed = questions.pop()
        questions[0]["explanation"] = "改写过的解析：先挂断，再核实。"
        write_bank(tmp_path / "b", types, questions)
        third = bank_service.import_bank(load_bank(bank_dir))
        assert (third.updated, third.retired, third.new_version) == (1, 1, True)
        row = db.session.get(Question, removed["id"])
        assert row is not None and row.active is False
        assert bank_service.current_version() == third.version != first.version


def test_cli_validate_fails_with_named_problem(runner, tmp_path):
    _, base = mini_bank_content()
    bad = make_question("bad-1", "fake_authority", answer=["Q"], stem="命令行测试的独特题干")
    bank_dir = write_bank(tmp_path / "b", mini_bank_content()[0], base + [bad])
    result = runner.invoke(args=["bank", "validate", "--dir", str(bank_dir)])
    assert result.exit_code != 0
    assert "[bad-1] answer" in result.output


def test_cli_validate_reports_unreadable_yaml(runner, tmp_path):
    (tmp_path / "questions").mkdir()
    (tmp_path / "scam_types.yaml").write_text("- id: [unclosed", encoding="utf-8")
    result = runner.invoke(args=["bank", "validate", "--dir", str(tmp_path)])
    assert result.exit_code != 0 and "scam_types.yaml" in result.output


def test_cli_import_refuses_an_invalid_bank(runner, app, mini_bank_dir):
    result = runner.invoke(args=["bank", "import", "--dir", str(mini_bank_dir)])
    assert result.exit_code != 0 and "nothing imported" in result.output
    with app.app_context():
        assert bank_service.current_version() is None


def test_chat_lexicon_is_loaded_and_checked(tmp_path):
    types, questions = mini_bank_content()
    bank_dir = write_bank(tmp_path / "b", types, questions)
    (bank_dir / "chat_lexicon.yaml").write_text(
        "fake_authority:\n  - {phrase: 协查对象, weight: 3}\n  - 远程问询\n"
        "not_a_type:\n  - {phrase: 什么, weight: 1}\n"
        "shuadan_rebate:\n  - {phrase: 做单, weight: 99}\n  - {weight: 1}\n", encoding="utf-8")
    bank = load_bank(bank_dir)
    assert [f.phrase for f in bank.lexicon["fake_authority"]] == ["协查对象", "远程问询"]
    errors = validate_bank(bank, NO_FLOORS)
    assert any("[not_a_type]" in e for e in errors)
    assert any("做单" in e and "weight" in e for e in errors)
    assert any("chat_lexicon.yaml [shuadan_rebate]" in e and "无法识别" in e for e in errors)


CUES = dataclasses.replace(Floors.none(), answer_cues=True)  # share rules on, floors off


def _single(qid: str, answer: str, texts: list[str], stem: str) -> dict:
    return make_question(qid, "fake_authority", stem=stem, answer=[answer],
                         options=[{"key": k, "text": t} for k, t in zip("ABCD", texts, strict=False)])


def test_unseen_material_in_resident_text_is_refused(tmp_path):
    _, base = mini_bank_content()
    bad = [
        make_question("u1", "fake_authority", stem="§15里的受害人遇到了什么？这是一道独特题干"),
        make_question("u2", "fake_authority", stem="独特题干二：遇到这种情况怎么办呢",
                      explanation="演练中有孩子被带走了。"),
        make_question("u3", "fake_authority", stem="独特题干三：宣传单该怎么看呢",
                      options=[{"key": "A", "text": "宣传材料里说的都对"}, {"key": "B", "text": "挂断核实"}]),
    ]
    errors = errors_for(tmp_path, questions=base + bad)
    assert any("[u1] stem" in e and "§" in e for e in errors)
    assert any("[u2] explanation" in e and "演练中" in e for e in errors)
    assert any("[u3] options" in e and "宣传材料" in e for e in errors)
    # The source field keeps the reference: the mini bank's "§15" sources are fine.
    assert errors_for(tmp_path / "ok", questions=base) == []


def _cue_errors(tmp_path, questions):
    types, _ = mini_bank_content()
    return validate_bank(load_bank(write_bank(tmp_path / "c", types, questions)), CUES)


def _balanced(n: int, prefix: str = "s") -> list[dict]:
    """n single-choice questions with keys cycling A–D and the answer never the longest."""
    out = []
    for i in range(n):
        key = "ABCD"[i % 4]
        texts = ["长一点的错误选项" if k != key else "正确做法" for k in "ABCD"]
        out.append(_single(f"{prefix}{i}", key, texts, f"第{i}题：完全不同的情景描述{'甲乙丙丁戊己庚辛壬癸'[i % 10] * (i + 1)}"))
    return out


def test_answer_cue_rules_pass_a_balanced_bank(tmp_path):
    assert _cue_errors(tmp_path, _balanced(8)) == []


def test_longest_option_share_over_35_percent_fails(tmp_path):
    questions = _balanced(8)
    for q in questions[:3]:  # 3 of 8 = 37.5%
        correct = q["answer"][0]
        for o in q["options"]:
            if o["key"] == correct:
                o["text"] = "这是一个明显比其他选项都长得多的正确选项"
    errors = _cue_errors(tmp_path, questions)
    assert any("最长选项" in e and "3/8" in e for e in errors), errors
    assert _cue_errors(tmp_path / "two", questions[:2] + _balanced(8)[2:]) == []  # 2 of 8 passes


def test_one_key_over_40_percent_fails_per_file_and_bank(tmp_path):
    questions = _balanced(8)
    for q in questions[:4]:  # B on 4 + the cycle's own B on 1 of the rest = 5/8
        texts = [o["text"] for o in q["options"]]
        correct = texts.pop("ABCD".index(q["answer"][0]))
        texts.insert(1, correct)
        q["options"] = [{"key": k, "text": t} for k, t in zip("ABCD", texts, strict=False)]
        q["answer"] = ["B"]
    errors = _cue_errors(tmp_path, questions)
    assert any("questions/fake_authority.yaml answer" in e and "B 占 5/8" in e for e in errors), errors
    assert any("全库" in e and "B 占" in e for e in errors), errors


def test_same_number_of_correct_options_over_60_percent_fails(tmp_path):
    multis = []
    for i in range(5):
        answer = ["A", "B", "C"] if i < 4 else ["A", "B"]  # 4 of 5 = 80% have three keys
        multis.append(make_question(f"m{i}", "fake_authority", type="multiple", answer=answer,
                                    stem=f"多选第{i}题：各不相同的情景{'子丑寅卯辰'[i] * (i + 2)}",
                                    options=[{"key": k, "text": f"做法{k}{i}"} for k in "ABCD"]))
    errors = _cue_errors(tmp_path, _balanced(8) + multis)
    assert any("恰好 3 个正确答案" in e and "4/5" in e for e in errors), errors
    multis[0]["answer"] = ["A", "B"]
    multis[1]["answer"] = ["A", "B", "C", "D"]
    multis[1]["options"].append({"key": "E", "text": "错误做法"})
    assert _cue_errors(tmp_path / "ok", _balanced(8) + multis) == []


def test_naive_strategies_measure_a_guessable_bank(tmp_path):
    from quizbot.bank import naive_strategy_scores

    guessable = []
    for i in range(6):
        guessable.append(_single(f"g{i}", "B", ["转账", "先挂断电话，再自己拨打官方号码核实真假", "照做", "等等"],
                                 f"第{i}题：有人来电让您转账怎么办{'甲乙丙丁戊己'[i] * (i + 1)}"))
    scores = naive_strategy_scores(load_bank(write_bank(tmp_path / "g", mini_bank_content()[0], guessable)))
    assert scores["longest"] == 1.0 and scores["always_b"] == 1.0
    fair = naive_strategy_scores(load_bank(write_bank(tmp_path / "f", mini_bank_content()[0], _balanced(8))))
    assert fair["longest"] == 0.0 and fair["always_b"] == 0.25
