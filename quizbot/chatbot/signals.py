"""Signals that cut across scam types: the shape of a scam rather than its story.

Patterns run on the compact text (lower-case, simplified, no spaces). Each generic signal
counts once per message, whatever the number of hits; weights were tuned on
tests/data/chat_cases.yaml and checked on scripts/data/holdout_cases.jsonl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_YOU = r"(?:我|你|您|咱|俺|本人|他|她|老人|妈|爸|家人)?"
# Kin or colleagues: who a scammer pretends to be, or who the victim is told not to tell.
KIN = (r"(?:爸|妈|爷|奶|姥|外公|外婆|儿子|女儿|孙|侄|甥|舅|姨|叔|伯|婶|姑|哥|姐|弟|妹|老公|老婆|丈夫|妻子|媳妇|女婿"
       r"|家人|家里|亲戚|父母|子女|孩子|领导|同事|单位|公司|老师|学校|辅导员|朋友|任何人|别人|其他人|银行|警察|民警)")


@dataclass(frozen=True)
class Signal:
    id: str
    label: str  # shown to residents as the reason
    weight: float
    pattern: re.Pattern


def _sig(id_: str, label: str, weight: float, pattern: str) -> Signal:
    return Signal(id_, label, weight, re.compile(pattern))


def _each(heads: str, rest: str) -> str:
    """``(?:a|b)rest`` spelt out as ``arest|brest``, for speed only.

    When every top-level alternative of a pattern begins with a plain character, ``re`` scans
    in C for the positions holding one of those characters and tries the pattern only there;
    one alternative that begins with a group makes it try every position (2–5× slower on
    these patterns, and they run on every message). The heads keep their order, so the first
    match found at each position, and its end, are the same as with the group. ``x?`` at the
    start of a head is spelt as two heads, ``x`` first (greedy) then without it.
    """
    return "|".join(head + rest for head in heads.split("|"))


GENERIC_SIGNALS: tuple[Signal, ...] = (
    _sig("pay_first", "要求先转账、先付钱", 2.5,
         _each("让|叫|要|要求|催|逼|需要|必须|得|先", _YOU
               + r".{0,6}(?:转账|转钱|汇款|打款|打钱|付款|交钱|充值|垫付|转到|转给|汇到|打到|缴纳|交纳|转过去|扫码付)")
         + r"|先(?:交|付|垫|转|充)|转到(?:指定|对方|他的|这个)?(?:账户|账号|卡)"
         + "|" + _each("让|叫|要", _YOU + r".{0,6}(?:网银|手机银行|银行app).{0,4}操作")),
    _sig("credentials", "索要验证码、密码或卡号", 3.0,
         _each("报|说|念|发|给|告诉|提供|输入|填|要", _YOU
               + r"[^,.!?;，。！？；]{0,8}(?:验证码|校验码|动态码|密码|卡号|cvv|安全码|身份证号)")
         + "|" + _each("验证码|密码|卡号", r"(?:发|报|告诉|给)(?:他|她|对方|我|过去)")),
    _sig("remote_control", "要求屏幕共享或下载陌生软件", 3.0,
         r"屏幕共享|共享屏幕|开(?:启)?共享|会议软件|远程(?:控制|协助)|向日葵|腾讯会议|zoom"
         r"|" + _each("下载|安装|下个|装个|装一个|下一个", r"(?:一个|个)?.{0,8}(?:app|软件|apk|客户端)")),
    _sig("safe_account", "“安全账户”", 4.0, r"安全(?:账|帐)(?:户|号)|" + _each("资金|财产", r"(?:清查|核查)")),
    # Only fees scams invent: 生活费, 房租, 物业费 and the like are everyday money.
    _sig("pay_fee", "要先交一笔费用", 2.5,
         r"(?:交|缴|付|给|收|转)了?(?:他|她|对方|他们)?[\d一二两三四五六七八九十百千万几]+(?:块|元|万|千)?(?:钱)?的?"
         r"[^,.!?;，。！？；\d]{0,5}(?:手续费|保证金|解冻|激活费|会员费|入门费|服务费|公证费"
         r"|认证费|包装费|通道费|押金|税费|个税|所得税|红包|保险费|审核费|验资|开卡费|升级费|加盟费|资料费|定金)"),
    _sig("upfront_fee", "要交保证金、解冻费、手续费", 3.0,
         r"保证金|解冻费|解冻金|激活费|验资|刷流水|流水不足|账户冻结|账号冻结|"
         + _each("交|缴|付", r"(?:税|个税|公证费|押金|会员费|服务费|入会费|入门费)")),
    _sig("urgency", "催促你马上办", 1.0,
         r"马上|立刻|立即|赶紧|尽快|限时|今天之内|否则|不然(?:就|会)|过期|逾期|来不及|" + _each("分钟|小时", "内")),
    _sig("secrecy", "要求保密、不让告诉家人", 2.5,
         _each("别|不要|不能|不许|不准|千万别|不可以|不让|先别|暂时别",
               r"(?:你|您|他|她|我)?(?:告诉|跟|和|对|让|同)(?:你|您|他|她|我)?(?:的|们)?[^,.!?;，。！？；]{0,3}" + KIN)
         + r"|保密|不要声张|别声张|单独(?:房间|一个人)|挂断.{0,4}(?:就|会)"),
    _sig("stranger", "陌生人主动联系", 1.0,
         r"陌生|自称|冒充|不认识的|加(?:我|了我)(?:微信|qq|好友|vx|v)|拉(?:我|进)(?:进)?群|私聊|网友|网上认识"),
    _sig("link", "发来链接或二维码", 1.5,
         r"https?:|www\.|\.(?:cn|com|net|top|xyz|vip|cc)\b|点(?:击|开)?(?:链接|网址)|扫(?:一扫|码)|二维码"),
    _sig("too_good", "高回报、稳赚不赔", 2.0,
         r"稳赚|包赚|保本|零风险|无风险|高回报|高收益|日赚|日入|日结|躺赚|翻倍|翻几倍|翻了?[一二两三四五六七八九十几]倍|内幕|内部消息"
         r"|稳赢|必赢|百分百中|稳定收益|收益稳定|月息|年化\d|回本|返(?:我|你|钱|现|佣|利)|连本带|多返|佣金|提成|动动手指"
         r"|利息高|收益高|比存银行|赢钱|稳了"),
    _sig("pay_to_unlock", "先交钱才能提现、放款或解冻", 3.5,
         _each("先|才能|才可以|才可|否则|不然|之前", r"[^,.!?;，。！？；]{0,12}"
               r"(?:提现|放款|解冻|到账|领取|领奖|取出|提出来|出款|返还|返款|下款|解封|激活|结算|退回|退还)")
         + "|" + _each("提现|放款|解冻|到账|领取|领奖|出款|下款|解封|结算|返还",
                       r"[^,.!?;，。！？；]{0,12}(?:先|要|需要|得|必须)(?:交|缴|付|充|转|垫)")
         + r"|提不出|取不出|提不了|无法提现|不能提现|提现失败|提现不了"),
    _sig("lost_contact", "钱给出去后联系不上", 2.5,
         _each("联系|找", r"不(?:上|到)") + "|" + _each("把我|被对方|被他|被她|被", "拉黑")
         + r"|不回(?:了|消息|复)|人找不到|跑路|打不开了|登不上|关机了|失联|消失了|注销了账号"),
    _sig("rent_account", "出租、出借、出售银行卡或账号", 3.0,
         _each("借|租|卖|出租|出借|出售|收购|收|回收", r"(?:我|你|他|她|您)?(?:的)?[^,.!?;，。！？；]{0,5}"
               r"(?:银行卡|卡片|电话卡|手机卡|账号|账户|微信号|支付宝|收款码|对公户|u盾|医保卡|社保卡)")
         + "|" + _each("卡|账号|支付宝|微信", r"(?:借|租|卖)(?:给|出去)")),
    _sig("recruit_others", "靠拉人头、发展下线赚钱", 2.5,
         r"拉人头|发展(?:自己的)?(?:下线|团队|会员|\d+个人|[一二三四五六七八九十几]+个人)|推荐(?:别人|亲友|朋友)|邀请好友"
         r"|下(?:面|线)的人|拉(?:亲戚|朋友|亲友|家人)"),
    # First contact from a "relative" or "boss" on a new number or account (issue #10: these
    # were mostly missed before any money was named). Written from police warnings, not corpus text.
    _sig("new_account", "自称熟人换了新号、让你加新好友", 2.0,
         _each("换了|换|换成|新", r"(?:个|了|一个)?(?:新的?)?(?:手机号|号码|号|微信号?|qq号?|vx|v信|账号)"
               r"[^。！？!?]{0,12}(?:加|添加|存一下|存下)")
         + r"|加(?:我|一下|下)?(?:这个|的)?新(?:微信|qq|号|账号)"),
    _sig("private_channel", "要求加私人微信、QQ或进群", 1.0,
         r"加(?:我|他|她|对方|)?(?:的)?(?:微信|威信|薇信|vx|wx|v信|qq|扣扣|企业微信|好友|群)|加v|\+v|私聊|拉(?:我)?进群|进群"),
)

# An amount of money: digits or Chinese numerals, then a unit ("三千", "两万块", "5000元", "1.2万").
_AMOUNT = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十几百千万]+)多?(?:块|元|万|千|百|w)"
# Money taken from the resident's account without their doing ("卡里少了五万", "被盗刷").
_TAKEN = (
    _each("钱|余额|存款|积蓄|工资", r"[^,.!?;，。！？；]{0,8}被(?:人)?(?:转走|划走|盗刷|取走|扣走|刷走)")
    + r"|被盗刷|被人转走|钱被转走"
    + "|" + _each("卡里|卡上|账户里|账户|余额|支付宝里|微信里|存折上", r"[^,.!?;，。！？；]{0,6}(?:少了|没了|不见了|被扣)")
    + r"|莫名(?:其妙)?(?:被)?扣|不是我(?:本人)?(?:操作|转|付)的|我没(?:有)?操作过"
)

# Money already moving: the reply leads with the emergency script. Any wording: "已经转了3万",
# "刚转了五千给那个客服", "已经把六万转给投资导师", "钱刚被人转走了", "被骗了", "充了两万",
# "转账5000元后", "卡里少了五万". Whether it went to someone the resident now doubts is decided
# with DISTRESS and the red flags (engine.inspect).
MONEY_MOVED = re.compile(
    _each("已经|已|刚刚|刚|刚才|都|才|一共|总共|前后|先后|陆续", r"(?:给(?:他|她|对方)|向对方)?.{0,3}"
          r"(?:转了|转账了|转过去|汇了|打了|付了|交了|充了|垫了|转出|被骗|付过去|打过去|汇过去|存进去|充进去|投进去|投了)")
    + "|" + _each("已经|已|刚刚|刚|刚才|都|前后|先后|陆续",
                  r"把[^,.!?;，。！？；]{0,12}(?:转|汇|打|付|充|交|投|存)(?:给|到|进|过去|了|出去)")
    + r"|正在转|在转账|转了\d|被骗了|被骗走|上当了|被骗\d|钱没了"
    # a payment in the past tense with its amount: "充了两万", "交了三千的解冻费", "给了他五百块"
    + "|" + _each("转|汇|付|交|充|投|垫|打|给|借|贷", r"了(?:他|她|对方|人家|过去)?" + _AMOUNT)
    + "|" + _each("转账|汇款|打款|付款|转给对方|汇给对方", _AMOUNT + r"(?:后|之后|以后)")
    + "|" + _TAKEN
)
# Money taken without the resident's doing: an emergency whatever else the text says.
MONEY_TAKEN = re.compile(_TAKEN + r"|被骗")
# After "money moved", signs that it went to someone the resident now doubts (not 生活费 to a son):
# asking what to do, the other side pushing for more or vanishing, or a stranger or impostor.
DISTRESS = re.compile(
    r"怎么办|咋办|怎么弄|追回|要回|拿回|退回来|能回来|报警|对方|那个人|那边|客服|导师|老师说|骗|他又|她又|又让|还让|再转|再交|再充|"
    r"联系不上|拉黑|才能提|才能取|才能到账|提不出|取不出|提不了|取不了|要交|安全账户|不见了|不对劲|"
    r"自称|冒充|假冒|网上认识|网友|陌生|不认识|没见过|素未谋面"
)

# Resident has clearly said "no": not a reason to call it safe, but not an emergency either.
AVOIDED = re.compile(
    _each("直接|马上|就|已经", r"挂(?:了|断了|掉了)") + r"|挂断了|没理|"
    + _each("我|", r"拉黑了?(?:他|她|对方|号码)") + r"|把(?:他|她|对方|号码)拉黑|没上当|识破|没有转|没转|没给|没告诉|没信"
    r"|没点|没去|没回|没加|直接删|删了|没下载|没理会|没搭理|拦下|拦住|保住了|没(?:有)?被骗|及时止损"
    r"|核实了|提醒大家|别信了|根本不是(?:他|她|本人)|是假的|拒绝了|没答应|没同意"
)

# Asking whether a concrete offer is real: an assessment, not a knowledge question.
ASKS_ABOUT_OFFER = re.compile(r"真的?能|能回吗|要(?:先)?(?:交|转|付)[^,.!?;，。！？；]{0,6}吗|靠谱|能做吗|能投吗|能信吗|真的吗|是真的|正常吗|可信吗|合法吗|是不是骗|要不要|该不该|能不能(?:做|投|信|借|买)|可以(?:做|投|信)吗|安全吗")

# The resident speaks about themselves: an account to assess, not a general question.
FIRST_PERSON = re.compile(r"我(?!们|国|市|县|区|省)|俺|咱家|我家")

# "Might have been / if I were scammed": a hypothetical, not money already gone.
HYPOTHETICAL = re.compile(r"(?:可能|如果|万一|要是|假如|怕|担心|是不是|会不会|是否|有没有|以免|防止|避免|不然|否则|小心)[^,.!?;，。！？；]{0,4}$")
ASKING = re.compile(r"听说|请问|想问|问一下|问问")
ENDS_AS_QUESTION = re.compile(r"(?:[?？]|吗|呢)[?？!！。.]*$")

# A general question ("被骗了应该打什么电话？") rather than the resident's own situation.
GENERAL_QUESTION = re.compile(
    _each("会不会|能不能|可不可以|怎么办|可以吗|是什么|有没有用|管用吗|算不算|有哪些|什么电话|打什么|找谁",
          r".{0,20}[?？吗呢]?$") + "|" + _each("吗|呢", r"[?？]?$")
)

# Negators looked for just before a phrase, in the same clause. "别人", "是不是" and
# "没多久" are not negations.
NEGATION = re.compile(
    r"不会|不要|不用|不能|不可能|从不|绝不|绝对不|没有|别(?!人)|勿|谨防|警惕|防范|小心|不存在|并非|(?<!是)不是|没(?!多久)"
)
# Every negator above begins with one of these characters: a window holding none of them is
# not negated, so the two searches are skipped (a test checks the list against the pattern).
NEGATORS = frozenset("不从绝没别勿谨警防小并")
NEGATOR_CHAR = re.compile("[" + "".join(sorted(NEGATORS)) + "]")
CLAUSE_TAIL = re.compile(r"[^,.!?;:，。！？；：、\n]*\Z")

# Legitimate notices: real services say "do not share", marketing SMS carry an opt-out.
LEGIT_MARKERS = re.compile(
    _each("请勿|切勿|勿", r"(?:泄露|告诉|转发|向他人|透露)")
    + "|" + _each("请勿|切勿|勿", r"(?:将|把)?[^,.!?;，。！？；]{0,6}(?:泄露|告知|告诉|透露|转发|提供)给?(?:他人|任何人|别人)")
    + r"|不要(?:泄露|透露|转发)给?(?:他人|任何人|别人)|" + _each("回|退订回|退订", "t")
    + r"|回td|退订|本人操作请忽略|如非本人操作|工作人员不会"
)

# Reminders and warnings people forward ("凡是…都是诈骗"): knowledge, not a live scam.
REMINDER = re.compile(
    r"凡是|都是诈骗|都是骗子|都是骗局|一律是诈骗|提醒(?:大家|您|你|广大)|谨防|警惕|请大家|切记|牢记|防骗知识|反诈宣传|温馨提示"
)


KNOWLEDGE_QUESTION = re.compile(
    _each("怎么|如何|怎样|咋", r"(?:防范|防止|预防|识别|辨别|避免|区分|判断|防|认出|举报|下载|安装|注册|用)")
    + r"|是什么|什么是|是啥|有哪些|有什么(?:特点|套路|手段|特征|表现|办法|方法)|哪些(?:套路|手段|特征)"
    r"|常见的|典型的|讲讲|介绍一下|科普|知识|宣传|防骗(?:技巧|知识|小常识)|区别|有什么不同|怎么区分|该怎么(?:教|说|办|防|提醒)|怎么教|怎么跟(?:孩子|老人|家人)"
)
SITUATION = re.compile(
    r"让我(?!们)|叫我(?!们)|要我(?!们)|给我打|加我|我已经|刚才|刚刚|今天|昨天|对方|他说|她说|说我|问我|找我|给我发|收到|接到|我在|我的"
)

# Talk about the quiz itself ("这道题选哪个"): offer help with the quiz, not a verdict.
QUIZ_TALK = re.compile(r"这(?:个|道)题|选哪个|答题|做题|题目|考试|测试题|得了\d+分")

SMALLTALK = re.compile(
    r"^(?:你好|您好|hi|hello|嗨|哈喽|在吗|在不在|早上好|晚上好|下午好|谢谢|多谢|感谢|谢啦|好的|ok|收到|嗯|帮助|help|菜单"
    r"|你是谁|你能做什么|怎么用|能干啥|再见|拜拜)[!！。.,，~?？啊呀呢哈]*$"
)

MONEY_WORDS = re.compile(r"钱|转账|汇款|付款|红包|银行|卡|元|块|万|贷款|投资|理财|支付宝|微信支付|收款|退款")
STRANGER_WORDS = re.compile(r"陌生|有人|电话|短信|加我|自称|网友|客服|不认识|私信|找我")


# Official anti-fraud channels: a warning from them is genuine and must never be doubted.
OFFICIAL_SOURCE = re.compile(r"96110|12381|国家反诈中心|反诈中心|反诈专线|反诈预警|反诈民警|全民反诈")
# Asking what an official channel is ("96110是什么电话？").
ASKS_WHAT_OFFICIAL = re.compile(
    r"(?:96110|12381|国家反诈中心|反诈中心|反诈专线)(?:app)?(?:是|是不是|算)?(?:什么|啥|哪里|谁|真的|真的吗|官方|骗|正规)"
    r"|(?:什么|啥|哪里)的?(?:电话|号码|短信).{0,4}(?:96110|12381)"
)

# "别告诉儿子", "不要跟你爸说", "千万别让单位知道", "不让她跟家里人讲": one pattern over any kin word.
SECRECY = re.compile(
    _each("别|不要|不能|不许|不准|千万别|不可以|不让|先别|暂时别|不用",
          r"(?:你|您|他|她|我)?(?:告诉|跟|和|对|给|让|同)(?:你|您|他|她|我)?(?:的|们)?[^,.!?;，。！？；]{0,3}" + KIN)
    + r"|保密|不要声张|别声张|不能声张"
)
# A relative or colleague in sudden trouble that needs money now (accident, arrest, hospital, ransom).
KIN_TROUBLE = re.compile(
    r"车祸|出事|撞了人|撞人|撞伤|被抓|被拘|拘留|派出所|关起来|住院|手术|抢救|急救|绑架|被绑|赎金|打架|打伤|欠了.{0,4}债|被扣|保释|取保"
)
KIN_PERSON = re.compile(
    _each("我|你|您", r"(?:的)?(?:爸|妈|儿子|女儿|孙子|孙女|外孙|侄子|侄女|外甥|老公|老婆|哥|姐|弟|妹|表|堂|领导|老板|同事)")
    + "|" + _each("爸|妈|爷爷|奶奶|姥姥|姥爷|外公|外婆|舅舅|叔叔|伯伯|姑姑|大伯|婶婶", r"[,，!！]") + r"|孙子|孙女|儿子|女儿|亲戚|侄子|外甥"
)
# Hearing or seeing the relative: what an AI voice or face copies.
VOICE_OR_FACE = re.compile(r"视频|语音|声音|脸|长得|面孔|换脸|拟声|一模一样|就是他|就是她")
MONEY_ASK = re.compile(r"转|汇|打钱|借|要钱|拿钱|钱|万|块|元")
