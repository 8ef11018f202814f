"""Name pools for the generated part of the demo: roads, units, people.

Road names are in the style of Chengyang's streets; their placement is synthetic. Person names
and phone numbers are invented (phone numbers use an exchange prefix 0 that no Qingdao line
has, so they reach nobody).
"""

from __future__ import annotations

import numpy as np

ROAD_STEMS = (
    "正阳", "长城", "春阳", "文阳", "崇阳", "靖城", "兴阳", "明阳", "青威", "龙泉", "华城", "银河", "天河", "松山",
    "红湖", "双元", "黑龙江", "重庆", "仙山", "青大", "礼阳", "祥阳", "德阳", "富春江", "太行山", "泰山", "黄河",
    "旺阳", "和阳", "瑞阳", "顺阳", "丰阳", "嘉陵江", "秀峰", "古庙", "后桃林", "棘洪滩", "锦宏", "宝源", "流亭",
    "夏庄", "惜福", "上马", "河套", "红岛", "东风", "南疃", "仲村", "赵家岭", "荟城", "海城", "云头崮", "少山",
)
ROAD_SUFFIXES = ("路", "街", "大道", "中路", "东路", "西路", "一路", "二路")
COMMUNITY_STEMS = (
    "城阳村", "后田", "西城汇", "仲村", "古庙", "前桃林", "后桃林", "小寨子", "大北曲", "韩家", "王家", "东田", "西田",
    "南疃", "北疃", "青大", "长城", "祥阳", "荟城", "凤凰", "丹山", "源头", "赵家岭", "中黄埠", "杨家葛场", "兴阳",
    "龙泉", "宝龙", "锦绣", "和阳", "瑞阳", "双埠", "女姑山", "仙家寨", "流亭", "洼里", "东大洋", "西大洋", "西后楼",
    "棉花", "港东", "石门", "营房", "白沙湾", "河套", "罗家营", "东程", "韩洼", "南万", "马家台", "东宅子头",
    "夏庄", "源头", "云头崮", "王家曹村", "惜福", "傅家埠", "上马", "程哥庄", "棘洪滩", "南万", "红岛", "宿流",
)
SCHOOL_NAMES = tuple(f"城阳区第{n}实验小学" for n in "一二三四五六七八九") + tuple(
    f"城阳第{n}中学" for n in "一二三四五六七八九十"
) + ("城阳区职业中等专业学校", "青岛城阳区实验中学", "城阳区特殊教育学校")
COMPANY_WORDS = (
    "阳光", "华阳", "鑫源", "瑞丰", "恒泰", "宏达", "金海", "海润", "新城", "东方", "万家", "福源", "嘉禾", "盛世",
    "利群", "宝丰", "凯旋", "金城", "安信", "润泽", "天成", "众诚", "汇丰", "和泰", "祥瑞", "百福", "鲁青", "青港",
)
SHOP_KINDS = ("超市", "餐饮店", "商贸有限公司", "药房", "便利店", "五金店", "服装店", "水果店", "酒店", "汽修店", "家电商行", "茶庄")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国红梅志强海燕晓东文博雪婷宇航子涵浩然思雨俊杰"


def person_name(rng: np.random.Generator) -> str:
    """A plausible Chinese personal name (invented)."""
    given = "".join(rng.choice(list(GIVEN), size=int(rng.integers(1, 3))))
    return str(rng.choice(list(SURNAMES))) + given


def phone_number(rng: np.random.Generator) -> str:
    """A fictitious Qingdao landline (the 0 exchange prefix is never assigned)."""
    return f"0532-0{int(rng.integers(0, 10_000_000)):07d}"


def road_names(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct road names, stems and suffixes combined in random order."""
    combos = [stem + suffix for stem in dict.fromkeys(ROAD_STEMS) for suffix in ROAD_SUFFIXES]
    rng.shuffle(combos)
    extra = [f"{combos[k % len(combos)][:-1]}{k // len(combos) + 1}号{combos[k % len(combos)][-1]}" for k in range(max(0, count - len(combos)))]
    return (combos + extra)[:count]
