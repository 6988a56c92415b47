"""The fixed ids of ../shared/design/TAXONOMY.md, shared by the bank, the chatbot and reports."""

from __future__ import annotations

SCAM_TYPE_IDS: tuple[str, ...] = (
    "shuadan_rebate",
    "fake_investment",
    "fake_loan",
    "taolu_loan",
    "fake_customer_service",
    "fake_authority",
    "fake_credit_repair",
    "impersonate_acquaintance",
    "romance_pig_butchering",
    "fake_shopping",
    "game_trade",
    "lottery_prize",
    "phishing_link",
    "fake_subsidy",
    "pension_fraud",
    "medical_insurance_fraud",
    "contact_scam",
    "prostitution_ad",
    "pyramid_selling",
    "online_gambling",
    "card_rental",
    "premium_call",
    "ai_deepfake",
)
TOPIC_IDS: tuple[str, ...] = ("prevention_basics", "child_safety")
ALL_IDS: tuple[str, ...] = SCAM_TYPE_IDS + TOPIC_IDS

AUDIENCES: dict[str, str] = {
    "general": "普通居民",
    "elderly": "老年人",
    "student": "学生",
    "parent": "家长",
    "enterprise_finance": "企业财务人员",
    "worker_merchant": "务工人员、商户",
    "rural": "农村居民",
}

QUESTION_TYPES: dict[str, str] = {"single": "单选", "multiple": "多选", "judge": "判断"}
