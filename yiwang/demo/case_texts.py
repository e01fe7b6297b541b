"""Templates for the demo cases: topics, sentence fragments, notes. All texts written for Yiwang.

A :class:`Topic` says which category a kind of case belongs to (by name, so that it follows the
shipped category tree whatever its codes), which channels produce it, which departments handle it
and the fragments its title, description and result are composed from. ``{place}`` in a fragment is
replaced by the case's address, ``{dept}`` by the handling department's short name.

Category references: ``"SX:暴露垃圾"`` a GB/T 47678.5 管理事项 by name, ``"BJ:路灯"`` a 管理部件,
``"DM:投诉/城乡建设/住房保障与房地产"`` a 12345 demand (kind / first-level topic / second-level topic).
Department references: a department code (``"CG"``), or ``"street"`` / ``"community"`` for the
street office or community committee of the case's location.
"""

from __future__ import annotations

from dataclasses import dataclass

HOTLINE = "hotline_12345"
POLICE = "police_110"
PATROL = "grid_patrol"
WEB = "web"
OPEN311 = "open311"
ENTERPRISE = "enterprise"
LEADER = "leader"
SENSOR = "sensor"
MEDIA = "media"

CITIZEN = (HOTLINE, WEB, OPEN311)
WINTER = (11, 12, 1, 2, 3)
SUMMER = (6, 7, 8, 9)


@dataclass(frozen=True)
class Topic:
    key: str
    category: str
    channels: tuple[str, ...]
    leads: tuple[str, ...]
    titles: tuple[str, ...]
    problems: tuple[str, ...]
    results: tuple[str, ...]
    assist: tuple[str, ...] = ()
    weight: float = 1.0
    months: tuple[int, ...] = ()  # in season: weight × 3; out of season: × 0.15 (empty: all year)
    urgency: str = ""  # empty: the category's default
    answers: tuple[str, ...] = ()  # consultations: answers given at intake (most are answered directly)
    police_matter: bool = False  # belongs to 110 (the hotline transfers most of these)


TOPICS: tuple[Topic, ...] = (
    Topic(
        "garbage",
        "SX:暴露垃圾",
        (PATROL, HOTLINE, WEB, OPEN311, MEDIA),
        ("CG", "street", "community"),
        ("{place}暴露垃圾无人清理", "路边垃圾堆积", "小区门口垃圾乱堆"),
        (
            "{place}路边堆放生活垃圾，已有多日无人清运，气味较大",
            "{place}绿化带内被倾倒大量装修垃圾和生活垃圾",
            "{place}空地上垃圾越堆越多，招引蚊蝇老鼠",
        ),
        (
            "已安排环卫作业人员现场清运垃圾，并对周边进行保洁，纳入日常巡查",
            "已清理暴露垃圾约{n}车，责成物业加强日常保洁",
        ),
        weight=5.0,
    ),
    Topic(
        "bins_full",
        "SX:垃圾站（箱）满溢",
        (PATROL, SENSOR, HOTLINE),
        ("CG", "community"),
        ("{place}垃圾箱满溢", "垃圾桶满了没人倒"),
        ("{place}分类垃圾桶已满溢，垃圾散落地面", "{place}垃圾收集点每天傍晚满溢，清运不及时"),
        ("已协调环卫公司当日清运，并增加该点位清运频次", "已清运满溢垃圾，调整清运时间为每日两次"),
        weight=3.0,
    ),
    Topic(
        "road_damage",
        "SX:道路破损",
        (PATROL, HOTLINE, WEB, OPEN311),
        ("JT", "ZJ", "street"),
        ("{place}路面坑洼", "道路破损影响通行", "人行道地砖松动"),
        (
            "{place}路面出现多处坑洼，雨后积水，电动车经过容易摔倒",
            "{place}人行道地砖松动翘起，老人孩子经过有安全隐患",
            "{place}路面塌陷一处，约一米见方",
        ),
        ("已安排养护单位对破损路面进行修补，现已恢复通行", "已对松动地砖进行重新铺设，并设置临时警示标志"),
        assist=("CG",),
        weight=3.0,
    ),
    Topic(
        "manhole",
        "SX:雨水井盖异常",
        (PATROL, SENSOR, HOTLINE),
        ("SW", "GS"),
        ("{place}井盖缺失", "井盖破损存在隐患", "井盖位移"),
        (
            "{place}雨水井盖破损下陷，车辆经过响声很大",
            "{place}井盖缺失，仅用树枝遮挡，夜间非常危险",
            "{place}井盖监测终端报警，井盖发生位移",
        ),
        ("已更换破损井盖并加装防坠网", "已到场复位井盖并加固，监测终端恢复正常"),
        weight=2.0,
        urgency="urgent",
    ),
    Topic(
        "streetlight",
        "SX:路灯异常",
        (PATROL, HOTLINE, OPEN311),
        ("CG", "ZJ"),
        ("{place}路灯不亮", "一排路灯夜间不亮"),
        ("{place}一段路灯连续多晚不亮，夜间出行不便", "{place}路灯白天常亮、晚上却熄灭"),
        ("已维修路灯线路，更换损坏灯具，恢复正常照明", "已排查为配电箱故障，维修后恢复亮灯"),
        weight=2.0,
        months=(10, 11, 12, 1, 2),
    ),
    Topic(
        "parking",
        "SX:机动车乱停放",
        (PATROL, HOTLINE, POLICE),
        ("GA", "CG"),
        ("{place}车辆乱停", "车辆堵住出入口"),
        (
            "{place}机动车长期停放在人行道上，行人只能走机动车道",
            "{place}车辆乱停放，堵住小区出入口，消防车无法通行",
        ),
        ("交警已到场张贴违停告知单并拖移车辆，将加强该路段巡查", "已联系车主挪车，并施划禁停标线"),
        assist=("community",),
        weight=3.0,
    ),
    Topic(
        "vendor",
        "SX:占道经营",
        (PATROL, HOTLINE),
        ("CG", "street"),
        ("{place}占道经营", "商贩占用人行道"),
        ("{place}流动商贩占用人行道摆摊，早晚高峰拥堵", "{place}店铺把货物摆到门外经营，占用盲道"),
        ("执法队员已劝离占道商贩，对店外经营商户下达整改通知", "已规范经营秩序，引导商贩进入便民市场"),
        weight=2.5,
    ),
    Topic(
        "small_ads",
        "SX:非法小广告",
        (PATROL,),
        ("CG", "community"),
        ("{place}小广告", "墙面乱贴小广告"),
        ("{place}墙面和电线杆上张贴大量小广告", "{place}楼道内被喷涂办证小广告"),
        ("已组织人员清除小广告并覆盖喷涂字迹", "已清理完毕，将加强巡查"),
        weight=1.5,
    ),
    Topic(
        "site_noise",
        "SX:施工扰民",
        (HOTLINE, POLICE, WEB),
        ("ZJ", "HB", "CG"),
        ("{place}夜间施工扰民", "工地噪音扰民"),
        ("{place}工地夜间十点以后仍在施工，噪音很大影响休息", "{place}工地凌晨浇筑混凝土，周边居民无法入睡"),
        (
            "已要求施工方立即停止夜间作业，确需连续作业的须办理夜间施工许可并公示",
            "已约谈施工单位，调整作业时间",
        ),
        weight=2.0,
        months=(4, 5, 6, 7, 8, 9),
    ),
    Topic(
        "dust",
        "SX:工地扬尘",
        (PATROL, SENSOR, HOTLINE),
        ("ZJ", "HB"),
        ("{place}工地扬尘", "渣土未覆盖扬尘大"),
        ("{place}工地裸土未覆盖，刮风时扬尘很大", "{place}扬尘监测设备数值超标"),
        (
            "已督促施工单位覆盖裸土、开启喷淋设施，监测数值已恢复正常",
            "已对工地下达整改通知，落实六个百分之百",
        ),
        weight=1.5,
        months=(3, 4, 5, 10, 11),
    ),
    Topic(
        "bbq",
        "SX:露天烧烤",
        (PATROL, HOTLINE, POLICE),
        ("CG",),
        ("{place}露天烧烤", "烧烤油烟扰民"),
        ("{place}夜间露天烧烤，油烟和噪音影响楼上住户", "{place}烧烤摊占用人行道经营至凌晨"),
        ("已依法查处露天烧烤行为，引导商户入室经营并安装油烟净化设施", "已劝导商户停止露天烧烤"),
        weight=2.0,
        months=(5, 6, 7, 8, 9),
    ),
    Topic(
        "illegal_building",
        "SX:私搭乱建",
        (PATROL, HOTLINE, LEADER, MEDIA),
        ("CG", "street"),
        ("{place}私搭乱建", "楼顶违建"),
        ("{place}有住户在楼顶加盖板房", "{place}一楼住户私自扩建院墙，占用公共绿地"),
        ("已认定为违法建设，下达限期拆除通知，当事人已自行拆除", "已依法拆除违建并恢复原状"),
        assist=("ZR",),
        weight=1.5,
    ),
    Topic(
        "fire_lane",
        "SX:占用消防通道",
        (PATROL, HOTLINE),
        ("YJ", "community"),
        ("{place}消防通道被堵", "杂物堵塞消防通道"),
        ("{place}消防通道长期停放车辆并堆放杂物", "{place}楼道内堆放电动车和纸箱，堵塞安全出口"),
        ("已清理通道杂物，督促物业设置禁停标识并定期巡查", "已联系车主挪车，消防通道已畅通"),
        weight=1.0,
    ),
    Topic(
        "flooding",
        "SX:雨水箅子异常",
        (SENSOR, PATROL, HOTLINE),
        ("SW", "street"),
        ("{place}路面积水", "雨水箅子堵塞积水"),
        (
            "{place}雨后积水没过脚踝，雨水箅子被树叶堵塞",
            "{place}积水监测点水位超过警戒值",
            "{place}地下通道积水，车辆无法通行",
        ),
        ("已组织抽排积水，疏通雨水管道", "已清掏雨水箅子和检查井，积水已排除"),
        assist=("YJ",),
        weight=2.0,
        months=SUMMER,
        urgency="urgent",
    ),
    Topic(
        "heating",
        "DM:投诉/城乡建设/住房保障与房地产",
        CITIZEN,
        ("GR",),
        ("{place}暖气不热", "供暖温度不达标"),
        ("{place}家中暖气不热，室内温度只有十四五度", "{place}整栋楼暖气时热时不热，已多次联系供热公司"),
        ("供热公司已入户测温并排气，室温已达到十八度以上", "已更换堵塞的阀门并调整管网平衡"),
        weight=6.0,
        months=(11, 12, 1, 2, 3),
    ),
    Topic(
        "water_outage",
        "DM:求助/城乡建设/城市建设和市政管理",
        (HOTLINE, SENSOR),
        ("GS",),
        ("{place}停水", "水压低，高层用不上水"),
        (
            "{place}自早上起停水，未见停水通知",
            "{place}高层住户水压很低，白天基本用不上水",
            "{place}供水管网压力监测异常，疑似管道漏水",
        ),
        ("已抢修漏水管道并恢复供水", "已调整加压泵站运行，水压恢复正常"),
        weight=2.5,
        urgency="urgent",
    ),
    Topic(
        "power_outage",
        "DM:求助/经济管理/能源管理",
        (HOTLINE,),
        ("GD",),
        ("{place}停电", "频繁跳闸停电"),
        ("{place}整栋楼突然停电，不知道何时恢复", "{place}夏季用电高峰频繁跳闸"),
        ("供电抢修人员已到场更换故障设备，恢复供电", "已对线路扩容改造"),
        weight=1.5,
        months=(6, 7, 8, 12, 1),
        urgency="urgent",
    ),
    Topic(
        "gas",
        "DM:求助/城乡建设/安全生产",
        (HOTLINE,),
        ("RQ",),
        ("{place}燃气异味", "燃气表故障"),
        ("{place}楼道内有燃气异味", "{place}燃气表显示异常，充值后无法用气"),
        ("燃气公司已到场检测，更换老化连接管，无泄漏", "已更换燃气表，恢复用气"),
        assist=("YJ",),
        weight=1.0,
        urgency="urgent",
    ),
    Topic(
        "property",
        "DM:投诉/城乡建设/住房保障与房地产",
        (HOTLINE, WEB, LEADER),
        ("ZJ", "street", "community"),
        ("{place}物业服务差", "电梯经常故障"),
        (
            "{place}小区电梯经常停运，物业维修不及时",
            "{place}物业不作为，楼道灯坏了几个月没人修",
            "{place}楼顶漏水，物业推说没有维修资金",
        ),
        ("已约谈物业公司，电梯已维修并加强日常维保", "社区已督促物业完成维修，并将纳入物业服务考核"),
        assist=("community",),
        weight=4.0,
    ),
    Topic(
        "wages",
        "DM:投诉/劳动和社会保障/工资福利",
        (HOTLINE, WEB, LEADER),
        ("RS",),
        ("被拖欠工资", "工地拖欠农民工工资"),
        ("{place}一家公司拖欠员工工资三个月", "在{place}工地务工，包工头拖欠工资至今未付"),
        ("劳动监察已约谈用人单位，拖欠工资已全部支付", "已立案调查，责令企业限期支付"),
        weight=2.5,
        months=(12, 1, 2),
    ),
    Topic(
        "pension_consult",
        "DM:咨询/劳动和社会保障/城镇职工社会保险",
        (HOTLINE, WEB),
        ("RS",),
        ("咨询社保缴费", "咨询养老金领取"),
        ("咨询灵活就业人员如何缴纳职工养老保险", "咨询退休后养老金领取需要办理哪些手续"),
        ("已电话联系市民详细解答", "已告知办理流程和所需材料"),
        weight=3.0,
        answers=("已告知可通过社保服务大厅或网上服务平台办理，需携带身份证", "已告知办理流程和所需材料"),
    ),
    Topic(
        "school_consult",
        "DM:咨询/教育文体/考试招生",
        (HOTLINE, WEB),
        ("JY",),
        ("咨询入学政策", "咨询学区划分"),
        ("咨询孩子今年上小学需要准备哪些材料", "咨询{place}属于哪所学校的学区"),
        ("教体局已电话答复学区划分和报名时间", "已告知入学报名流程"),
        weight=2.0,
        months=(5, 6, 7, 8),
        answers=(
            "已告知入学报名时间、材料清单和咨询电话",
            "已告知学区划分以教育部门公布为准，并提供查询方式",
        ),
    ),
    Topic(
        "medical",
        "DM:投诉/卫生计生/医患纠纷",
        (HOTLINE,),
        ("WJ",),
        ("反映医院服务问题", "就医排队时间长"),
        ("在{place}附近的医院就诊，等候时间过长且服务态度差", "对医院收费有疑问，认为重复收费"),
        ("卫健局已调查核实，医院已向市民解释并致歉", "已督促医院优化就诊流程"),
        weight=1.5,
    ),
    Topic(
        "food",
        "DM:投诉/卫生计生/食品药品监管",
        (HOTLINE, WEB, OPEN311),
        ("SJ",),
        ("饭店卫生差", "购买到过期食品"),
        ("{place}一家饭店后厨卫生很差", "在{place}超市购买的食品已过保质期"),
        ("市场监管局已现场检查，责令整改并依法处罚", "已协调商家退赔"),
        weight=2.0,
    ),
    Topic(
        "consumer",
        "DM:投诉/商贸旅游/市场监管",
        (HOTLINE, WEB),
        ("SJ",),
        ("预付卡退费难", "商家拒不退款"),
        ("在{place}的健身房办理预付卡后店铺关门", "网购商品质量有问题，商家拒不退款"),
        ("已组织调解，商家同意退还剩余费用", "已告知通过消费者协会渠道维权，并督促商家处理"),
        weight=2.0,
    ),
    Topic(
        "bus",
        "DM:建议/交通运输/交通运输",
        (HOTLINE, WEB),
        ("JT",),
        ("建议增设公交线路", "建议延长末班车时间"),
        ("建议在{place}增设公交站点，附近居民出行不便", "建议延长经过{place}的公交末班车时间"),
        ("交通运输局已答复，将结合客流调查研究线路优化", "建议已收悉，将纳入线网优化方案"),
        weight=1.5,
    ),
    Topic(
        "taxi",
        "DM:投诉/交通运输/出租车管理",
        (HOTLINE,),
        ("JT",),
        ("出租车拒载", "出租车绕路"),
        ("在{place}打车被出租车拒载", "乘坐出租车被司机绕路多收费"),
        ("已查实并对驾驶员依法处理，退还多收费用", "已约谈出租车公司加强驾驶员教育"),
        weight=1.0,
    ),
    Topic(
        "neighbour_noise",
        "DM:投诉/政法/社会治安",
        (HOTLINE, POLICE),
        ("GA", "community"),
        ("邻居噪音扰民", "楼上深夜噪音"),
        ("{place}楼上住户深夜拖拽家具、大声喧哗", "{place}有商户高音喇叭循环播放"),
        ("社区已上门调解，双方达成谅解", "民警已上门劝诫，噪音已停止"),
        assist=("community",),
        weight=2.0,
    ),
    Topic(
        "elderly_help",
        "DM:求助/民政/社会救助",
        (HOTLINE, LEADER),
        ("MZ", "community"),
        ("独居老人需要帮助", "申请困难救助"),
        ("{place}一位独居老人行动不便，无人照顾", "家庭因病致困，咨询如何申请临时救助"),
        ("社区已上门走访，为老人链接助餐和家政服务", "已指导申请临时救助，相关材料已受理"),
        weight=1.5,
    ),
    Topic(
        "hukou_consult",
        "DM:咨询/政法/户籍证件",
        (HOTLINE,),
        ("GA",),
        ("咨询户口迁移", "咨询身份证办理"),
        ("咨询新生儿落户需要哪些材料", "咨询身份证丢失后如何补办"),
        ("已电话答复办理流程", "已告知就近派出所户籍窗口办理"),
        weight=2.0,
        answers=("已告知可到就近派出所户籍窗口办理及所需材料", "已告知网上预约方式和办理时间"),
    ),
    Topic(
        "veteran_consult",
        "DM:咨询/民政/优抚",
        (HOTLINE,),
        ("TJ",),
        ("咨询退役军人优待政策", "咨询优待证办理"),
        ("咨询退役军人优待证如何申领", "咨询优抚对象的医疗优待政策"),
        ("已电话答复申领流程", "已告知相关政策"),
        weight=0.6,
        answers=("已告知可到所在街道退役军人服务站申领", "已告知相关政策及咨询电话"),
    ),
    Topic(
        "enterprise",
        "DM:求助/经济管理/其他",
        (ENTERPRISE, LEADER),
        ("SWJ", "RS", "CZ"),
        ("企业反映用工困难", "企业申请政策兑现", "企业反映水电报装慢"),
        (
            "{place}一家制造企业反映招工难，希望对接用工资源",
            "企业反映扶持资金申报后迟迟未兑现",
            "企业新厂房用电报装进度慢，影响投产",
        ),
        ("已组织专场招聘会对接用工需求", "已协调财政部门加快兑现进度", "已协调供电部门加快报装"),
        weight=1.0,
    ),
    Topic(
        "tourism",
        "DM:投诉/商贸旅游/旅游管理",
        (HOTLINE, WEB, MEDIA),
        ("WL",),
        ("景区收费不合理", "海水浴场秩序乱"),
        ("在{place}附近景区游玩，停车收费不合理", "海水浴场周边商贩强买强卖"),
        ("文旅局已责令景区公示收费标准并整改", "已联合执法部门整治浴场周边经营秩序"),
        assist=("SJ",),
        weight=1.5,
        months=(5, 6, 7, 8, 9, 10),
    ),
    Topic(
        "village",
        "DM:投诉/农村农业/村务管理",
        (HOTLINE, LEADER),
        ("NY", "street"),
        ("村务不公开", "反映土地承包问题"),
        ("{place}村务公开不及时，村民对账目有疑问", "{place}土地承包合同到期后纠纷未解决"),
        ("街道已督促村委会公开账目并召开村民代表会议说明", "已组织调解，双方达成协议"),
        weight=1.2,
    ),
    Topic(
        "pollution_report",
        "DM:举报/环境保护/环境污染",
        (HOTLINE, WEB),
        ("HB",),
        ("举报企业偷排", "举报夜间排放异味"),
        ("举报{place}附近一家企业夜间偷排污水", "举报{place}一带夜间有刺鼻异味，怀疑有企业违规排放"),
        ("生态环境分局已现场检查取样，对违法企业立案查处", "已夜查，未发现违法排放，将持续监测"),
        weight=1.2,
    ),
    Topic(
        "police_matter",
        "DM:求助/政法/社会治安",
        (HOTLINE,),
        ("GA",),
        ("有人打架", "疑似盗窃"),
        ("{place}有人正在打架", "{place}发现有人撬电动车锁"),
        ("公安分局已出警处置", "已移交辖区派出所处理"),
        weight=0.6,
        police_matter=True,
    ),
)

# --- shared fragments -------------------------------------------------------------------------------
INTRO = {
    HOTLINE: ("市民来电反映：", "来电人反映：", "市民来电称："),
    POLICE: ("110转来：报警人称", "110转办非警务事项：报警人反映"),
    PATROL: ("网格员巡查发现：", "网格员日常巡查上报："),
    WEB: ("市民通过网站留言：", "市民通过小程序反映："),
    OPEN311: ("市民通过第三方应用上报：",),
    ENTERPRISE: ("企业通过政企直通车反映：",),
    LEADER: ("区领导交办：", "区领导批示：群众反映"),
    SENSOR: ("物联感知设备告警：",),
    MEDIA: ("媒体报道：", "网络舆情：有网民发帖称"),
}
CONSULT_INTRO = ("市民来电咨询：", "来电人咨询：")
DURATION = ("", "", "已持续一周左右，", "已经有半个多月，", "今天早上发现，", "多次反映未解决，")
REQUEST = ("希望尽快处理。", "请相关部门核实处理。", "希望有关部门管一管。", "请尽快解决。", "")
ROADS = (
    "海晨",
    "滨湾",
    "金沙",
    "泰和",
    "嘉禾",
    "瑞安",
    "福泉",
    "松韵",
    "竹溪",
    "凤鸣",
    "云台",
    "青梧",
    "星港",
    "锦澜",
    "丰源",
    "宁川",
    "兰亭",
    "柳岸",
    "桂苑",
    "荷塘",
)
ROAD_SUFFIX = ("路", "路", "街", "大道", "西路", "东路")
BUILDING = ("", "", "小区", "小区", "花园", "新村", "公寓")

RETURN_REASONS = (
    "该事项不属于本单位职责范围，请重新派遣",
    "经核实地址不在本单位辖区，请重新派遣",
    "该事项应由{dept}主办，申请退回",
)
EXTENSION_REASONS = (
    "需协调产权单位，施工周期较长，申请延期",
    "涉及维修资金审批，需要更多时间",
    "需要多个部门联合处置，申请延期",
    "受天气影响无法施工，申请延期",
)
EXTENSION_REJECT = ("理由不充分，请按期办结", "该事项不属于复杂疑难事项，请按原时限办结")
URGE_NOTES = ("请抓紧办理，即将超期", "市民再次来电催促，请尽快处理", "已超期，请立即办理")
SUPERVISE_NOTES = ("超期未办结，列入督办", "多次催办未果，提级督办", "群众反映强烈，领导督办")
PROGRESS_NOTES = ("已到现场查看，正在协调处理", "已联系相关单位，预计近日完成", "材料已上报，等待审批")
VERIFY_FAIL = ("现场核查问题仍然存在，请返工", "整改不彻底，请重新处理", "办理结果与实际情况不符")
CALLBACK_NOTES = {
    "satisfied": ("市民表示满意", "问题已解决，市民满意"),
    "basically_satisfied": ("市民表示基本满意", "已处理，但希望加强日常管理"),
    "unsatisfied": ("市民表示问题未解决", "市民对处理结果不满意", "市民反映处理后又出现同样问题"),
}
UNREACHED_NOTE = "多次回访未接通"
REOPEN_NOTES = ("回访不满意，二次办理", "市民反映问题未解决，重新派遣")
INVALID_REASONS = ("无效来电，来电人未说明具体诉求", "重复来电，已在其他工单中办理", "测试工单")
SUSPEND_REASONS = ("涉及历史遗留问题，需统筹研究", "需待汛期结束后施工", "涉及诉讼，等待法院判决")
RESUME_NOTES = ("条件具备，恢复办理", "已完成协调，恢复办理")
MERGE_NOTE = "同一问题重复反映，并入主单办理"
TRANSFER_NOTE = "属于警情，已转110处置"
DISPATCH_NOTES = ("请按时限办理", "", "", "请主办单位牵头，协办单位配合")
