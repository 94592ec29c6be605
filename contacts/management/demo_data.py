"""Name, company and place pools for believable demo data (English and Chinese).

Every email address and web site is under example.com, a domain reserved for examples (RFC 2606,
null MX): a demo campaign or a clicked link can never reach a real mailbox or company. Phone
patterns use `#` for a random digit, `&` for a digit from 2 to 9 (no real number starts a
local part with 0 or 1) and `@` for a random capital letter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    state: str
    country: str
    region: str  # contacts.models.Region value
    postal: str  # pattern
    street: str  # format with {n} (house number) and {s} (street name)
    streets: tuple[str, ...]
    phones: tuple[str, ...]  # patterns
    legal: tuple[str, ...] = ()  # company legal forms
    chinese: bool = False


def _cn_city(name: str, province: str, region: str, postal: str, area: str, districts: str) -> City:
    """A Chinese city: "金水区花园路88号", mobile numbers written four ways and landlines two."""
    roads = ("人民路", "解放路", "建设路", "中山路", "文化路", "花园路", "长江路", "黄河路", "新华路", "工业大道")  # fmt: skip
    streets = tuple(d + r for d in districts.split() for r in roads)
    return City(
        name, province, "中国", region, postal, "{s}{n}号", streets,
        ("+86 13# #### ####", "+86 18# #### ####", "+86 15# #### ####", "139########",
         "186-####-####", "137 #### ####", f"0{area}-&###-####", f"+86 {area} &### ####"),
        chinese=True,
    )  # fmt: skip


CN_CITIES = [
    _cn_city("郑州", "河南省", "central_china", "4500##", "371", "金水区 中原区 二七区 郑东新区"),
    _cn_city("洛阳", "河南省", "central_china", "4710##", "379", "涧西区 西工区 洛龙区"),
    _cn_city("武汉", "湖北省", "central_china", "4300##", "27", "江汉区 武昌区 洪山区"),
    _cn_city("长沙", "湖南省", "central_china", "4100##", "731", "岳麓区 芙蓉区 天心区"),
    _cn_city("上海", "上海市", "east_china", "2000##", "21", "浦东新区 徐汇区 静安区 闵行区"),
    _cn_city("杭州", "浙江省", "east_china", "3100##", "571", "西湖区 滨江区 余杭区"),
    _cn_city("南京", "江苏省", "east_china", "2100##", "25", "鼓楼区 玄武区 建邺区"),
    _cn_city("苏州", "江苏省", "east_china", "2150##", "512", "姑苏区 工业园区 吴中区"),
    _cn_city("北京", "北京市", "north_china", "1000##", "10", "朝阳区 海淀区 东城区 丰台区"),
    _cn_city("天津", "天津市", "north_china", "3000##", "22", "和平区 南开区 滨海新区"),
    _cn_city("广州", "广东省", "south_china", "5100##", "20", "天河区 越秀区 番禺区"),
    _cn_city("深圳", "广东省", "south_china", "5180##", "755", "南山区 福田区 宝安区 龙岗区"),
    _cn_city("成都", "四川省", "west_china", "6100##", "28", "武侯区 锦江区 高新区"),
    _cn_city("重庆", "重庆市", "west_china", "4000##", "23", "渝中区 江北区 九龙坡区"),
    _cn_city("西安", "陕西省", "west_china", "7100##", "29", "雁塔区 碑林区 未央区"),
]  # fmt: skip
# Weighted towards central and east China, where the demo's "Central China" team sells.
CN_CITY_WEIGHTS = [6, 2, 3, 1, 6, 3, 2, 2, 5, 1, 3, 4, 2, 1, 1]

_US_STREETS = (
    "Main Street",
    "Oak Avenue",
    "Maple Drive",
    "Washington Street",
    "Park Avenue",
    "Elm Street",
    "Lake Shore Drive",
    "Congress Avenue",
    "Commonwealth Avenue",
    "Pine Street",
)
_UK_STREETS = (
    "High Street",
    "Station Road",
    "Victoria Road",
    "Church Lane",
    "King Street",
    "Queen's Road",
    "Mill Lane",
    "The Crescent",
)
EN_CITIES = [
    City("Boston", "MA", "United States", "north_america", "02###", "{n} {s}", _US_STREETS, ("(617) &##-####", "+1 617-&##-####", "617.&##.####"), ("Inc.", "LLC", "Corp.", "Group")),
    City("New York", "NY", "United States", "north_america", "100##", "{n} {s}", _US_STREETS, ("(212) &##-####", "+1 646-&##-####", "(917) &##-####"), ("Inc.", "LLC", "Corp.", "Group")),
    City("Austin", "TX", "United States", "north_america", "787##", "{n} {s}", _US_STREETS, ("(512) &##-####", "+1 512 &## ####"), ("Inc.", "LLC", "Corp.", "Group")),
    City("San Jose", "CA", "United States", "north_america", "951##", "{n} {s}", _US_STREETS, ("(408) &##-####", "+1 408-&##-####"), ("Inc.", "LLC", "Corp.", "Group")),
    City("Chicago", "IL", "United States", "north_america", "606##", "{n} {s}", _US_STREETS, ("(312) &##-####", "312-&##-####"), ("Inc.", "LLC", "Corp.", "Group")),
    City("Toronto", "ON", "Canada", "north_america", "M5@ #@#", "{n} {s}", ("Bay Street", "Yonge Street", "King Street West", "Queen Street East", "Front Street"), ("(416) &##-####", "+1 647-&##-####"), ("Inc.", "Ltd.")),
    City("São Paulo", "SP", "Brazil", "latin_america", "01###-###", "{s}, {n}", ("Av. Paulista", "Rua Augusta", "Rua Oscar Freire", "Av. Faria Lima"), ("+55 11 9####-####", "(11) 9####-####"), ("Ltda.", "S.A.")),
    City("Mexico City", "CDMX", "Mexico", "latin_america", "06###", "{s} {n}", ("Av. Reforma", "Calle Madero", "Av. Insurgentes Sur"), ("+52 55 #### ####",), ("S.A. de C.V.",)),
    City("London", "", "United Kingdom", "europe", "EC#@ #@@", "{n} {s}", _UK_STREETS, ("+44 20 7### ####", "020 7### ####", "+44 7### ######"), ("Ltd", "plc", "Group")),
    City("Manchester", "", "United Kingdom", "europe", "M# #@@", "{n} {s}", _UK_STREETS, ("+44 161 ### ####", "0161 ### ####"), ("Ltd", "plc", "Group")),
    City("Berlin", "", "Germany", "europe", "10###", "{s} {n}", ("Hauptstraße", "Friedrichstraße", "Kurfürstendamm", "Torstraße", "Schönhauser Allee"), ("+49 30 ########", "030 #######", "+49 151 ########"), ("GmbH", "AG")),
    City("München", "Bayern", "Germany", "europe", "80###", "{s} {n}", ("Leopoldstraße", "Maximilianstraße", "Sendlinger Straße"), ("+49 89 #######", "089 ########"), ("GmbH", "AG")),
    City("Lyon", "", "France", "europe", "6900#", "{n} {s}", ("rue de la République", "avenue Jean Jaurès", "quai Saint-Antoine", "rue Victor Hugo"), ("+33 4 ## ## ## ##", "04 ## ## ## ##", "+33 6 ## ## ## ##"), ("SAS", "S.A.")),
    City("Amsterdam", "", "Netherlands", "europe", "10## @@", "{s} {n}", ("Keizersgracht", "Damrak", "Prinsengracht"), ("+31 20 ### ####", "020 ### ####"), ("B.V.",)),
    City("Dubai", "", "United Arab Emirates", "middle_east_africa", "", "{n} {s}", ("Sheikh Zayed Road", "Al Wasl Road", "Jumeirah Beach Road"), ("+971 4 ### ####", "+971 50 ### ####"), ("LLC", "FZE")),
    City("Johannesburg", "Gauteng", "South Africa", "middle_east_africa", "2###", "{n} {s}", ("Jan Smuts Avenue", "Rivonia Road", "Oxford Road"), ("+27 11 ### ####",), ("(Pty) Ltd",)),
    City("Singapore", "", "Singapore", "asia_pacific", "0#####", "{n} {s}", ("Orchard Road", "Raffles Place", "Marina Boulevard", "Anson Road"), ("+65 6### ####", "+65 9### ####"), ("Pte. Ltd.",)),
    City("Sydney", "NSW", "Australia", "asia_pacific", "2###", "{n} {s}", ("George Street", "Pitt Street", "Kent Street", "Oxford Street"), ("+61 2 #### ####", "(02) #### ####", "+61 4## ### ###"), ("Pty Ltd",)),
    City("Tokyo", "", "Japan", "asia_pacific", "1##-####", "{n} {s}", ("Marunouchi", "Ginza", "Shibuya"), ("+81 3-####-####",), ("K.K.",)),
]  # fmt: skip
EN_CITY_WEIGHTS = [3, 4, 2, 2, 2, 2, 1, 1, 4, 1, 2, 1, 1, 1, 1, 1, 2, 2, 1]

# (Chinese surname, pinyin), the commonest first; the pool repeats them to match how often they
# occur. Two compound surnames give some three- and four-character names.
CN_FAMILY = [
    *[("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen")] * 4,
    *[("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou")] * 2,
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"),
    ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"),
    ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"),
    ("邓", "deng"), ("曹", "cao"), ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"),
    ("董", "dong"), ("袁", "yuan"), ("潘", "pan"), ("于", "yu"), ("蒋", "jiang"), ("蔡", "cai"),
    ("余", "yu"), ("杜", "du"), ("叶", "ye"), ("程", "cheng"), ("苏", "su"), ("魏", "wei"),
    ("吕", "lv"), ("丁", "ding"), ("任", "ren"), ("沈", "shen"), ("姚", "yao"), ("卢", "lu"),
    ("欧阳", "ouyang"), ("司马", "sima"),
]  # fmt: skip
CN_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("霞", "xia"), ("平", "ping"),
    ("刚", "gang"), ("辉", "hui"), ("鹏", "peng"), ("斌", "bin"), ("婷", "ting"), ("雪", "xue"),
    ("小明", "xiaoming"), ("建华", "jianhua"), ("志强", "zhiqiang"), ("秀英", "xiuying"),
    ("海燕", "haiyan"), ("晓东", "xiaodong"), ("丽娟", "lijuan"), ("国强", "guoqiang"),
    ("文博", "wenbo"), ("子涵", "zihan"), ("雨萱", "yuxuan"), ("浩然", "haoran"), ("欣怡", "xinyi"),
    ("俊杰", "junjie"), ("思远", "siyuan"), ("佳琪", "jiaqi"), ("宇航", "yuhang"), ("梓萱", "zixuan"),
    ("建国", "jianguo"), ("红梅", "hongmei"), ("玉兰", "yulan"), ("志明", "zhiming"),
    ("晓燕", "xiaoyan"), ("文静", "wenjing"), ("立新", "lixin"), ("春华", "chunhua"),
    ("家豪", "jiahao"), ("一鸣", "yiming"), ("诗涵", "shihan"), ("天佑", "tianyou"),
    ("美玲", "meiling"), ("振东", "zhendong"), ("少华", "shaohua"), ("雅琴", "yaqin"),
]  # fmt: skip
EN_GIVEN = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
    "Margaret", "Steven", "Sandra", "Paul", "Ashley", "Andrew", "Emily", "Joshua", "Michelle",
    "Kenneth", "Amanda", "Kevin", "Melissa", "Brian", "Deborah", "George", "Stephanie", "Olivia",
    "Liam", "Emma", "Noah", "Ava", "Sophia", "Lucas", "Mia", "Hannah", "Oliver", "Charlotte",
    "Ethan", "Grace", "Samuel", "Chloe", "Benjamin", "Isabella", "Henry", "Priya", "Arjun",
    "Fatima", "Omar", "Yuki", "Kenji", "Aisha", "Mateo", "Lena", "Felix", "Ingrid", "Lars",
    "Zoë", "José", "Chloé", "Søren", "François", "Renée",
]  # fmt: skip
EN_FAMILY = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Shah", "Khan", "Tanaka", "Sato",
    "Fischer", "Weber", "Becker", "Bernard", "Dupont", "de Vries", "Jansen", "Silva", "Santos",
    "Müller", "Schmidt", "Dubois", "O'Brien", "Kowalski", "Núñez", "Rossi", "Jensen", "Lefèvre",
]  # fmt: skip

# Chinese company names: city + trade name + kind, e.g. 郑州宇通物流有限公司.
CN_COMPANY_CORE = [
    ("宇通", "yutong"), ("华信", "huaxin"), ("中原", "zhongyuan"), ("恒达", "hengda"),
    ("金盛", "jinsheng"), ("瑞丰", "ruifeng"), ("博远", "boyuan"), ("天成", "tiancheng"),
    ("鼎新", "dingxin"), ("汇智", "huizhi"), ("安泰", "antai"), ("卓越", "zhuoyue"),
    ("星辰", "xingchen"), ("海川", "haichuan"), ("富源", "fuyuan"), ("昌盛", "changsheng"),
    ("东方", "dongfang"), ("联创", "lianchuang"), ("嘉禾", "jiahe"), ("永信", "yongxin"),
    ("盛世", "shengshi"), ("华润", "huarun"), ("光明", "guangming"), ("长虹", "changhong"),
    ("新纪元", "xinjiyuan"), ("启航", "qihang"), ("百川", "baichuan"), ("万通", "wantong"),
    ("正泰", "zhengtai"), ("德信", "dexin"), ("国邦", "guobang"), ("金桥", "jinqiao"),
    ("银河", "yinhe"), ("四海", "sihai"), ("三元", "sanyuan"), ("九州", "jiuzhou"),
    ("中科", "zhongke"), ("华夏", "huaxia"), ("远洋", "yuanyang"), ("明德", "mingde"),
    ("天润", "tianrun"), ("鸿运", "hongyun"), ("亿达", "yida"), ("融通", "rongtong"),
]  # fmt: skip
# (kind, industry, domain word)
CN_COMPANY_KIND = [
    ("物流有限公司", "logistics", "wuliu"), ("科技有限公司", "software", "tech"),
    ("信息技术有限公司", "software", "it"), ("机械制造有限公司", "manufacturing", "jixie"),
    ("电子有限公司", "manufacturing", "dianzi"), ("商贸有限公司", "retail", "trade"),
    ("建设集团有限公司", "construction", "jianshe"), ("置业有限公司", "construction", "zhiye"),
    ("医药有限公司", "healthcare", "pharma"), ("能源股份有限公司", "energy", "energy"),
    ("农业发展有限公司", "agriculture", "nongye"), ("教育咨询有限公司", "education", "edu"),
    ("金融服务有限公司", "finance", "finance"), ("酒店管理有限公司", "hospitality", "hotel"),
    ("文化传媒有限公司", "media", "media"),
]  # fmt: skip
EN_COMPANY_CORE = [
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Woodgrove",
    "Lucerne", "Alpine", "Blue Yonder", "Coho", "Wingtip", "Adventure Works", "Summit",
    "Riverside", "Harbor", "Evergreen", "Granite", "Redwood", "Silverline", "Brightwater",
    "Ironbridge", "Keystone", "Lakeshore", "Meridian", "Northstar", "Oakridge", "Pinnacle",
    "Sterling", "Trident", "Vertex", "Westfield", "Zenith", "Apex", "Beacon", "Crescent",
    "Falcon", "Horizon", "Juniper", "Kestrel", "Lighthouse", "Maple Leaf", "Orion", "Pioneer",
    "Sapphire", "Titan", "Vantage", "Willow", "Bluewater", "Cedar Point", "Clearview", "Copper",
    "Ashford", "Bramley", "Hartwell", "Kingsley", "Whitmore", "Fairbanks", "Larkspur", "Stonegate",
]  # fmt: skip
EN_COMPANY_DESCRIPTOR = [
    "Global", "Pacific", "Atlantic", "United", "Digital", "Advanced", "Premier", "National",
    "International", "Northern", "Southern", "Coastal", "Applied", "Integrated",
]  # fmt: skip
EN_COMPANY_KIND = [
    ("Logistics", "logistics"), ("Freight", "logistics"), ("Software", "software"),
    ("Systems", "software"), ("Technologies", "software"), ("Manufacturing", "manufacturing"),
    ("Industries", "manufacturing"), ("Retail", "retail"), ("Supply", "retail"),
    ("Construction", "construction"), ("Properties", "construction"), ("Health", "healthcare"),
    ("Medical", "healthcare"), ("Energy", "energy"), ("Power", "energy"), ("Farms", "agriculture"),
    ("Learning", "education"), ("Capital", "finance"), ("Insurance", "finance"),
    ("Media", "media"), ("Hotels", "hospitality"), ("Consulting", "other"),
]  # fmt: skip

INDUSTRY_CN = {
    "software": "软件与信息技术", "manufacturing": "制造", "retail": "商贸零售", "finance": "金融",
    "healthcare": "医药健康", "education": "教育", "logistics": "物流", "construction": "建筑地产",
    "energy": "能源", "hospitality": "酒店餐饮", "agriculture": "农业", "media": "文化传媒",
    "other": "综合",
}  # fmt: skip
INDUSTRY_EN = {
    "software": "software", "manufacturing": "manufacturing", "retail": "retail and distribution",
    "finance": "financial services", "healthcare": "healthcare", "education": "education",
    "logistics": "logistics", "construction": "construction and property", "energy": "energy",
    "hospitality": "hospitality", "agriculture": "agriculture", "media": "media",
    "other": "consulting",
}  # fmt: skip

# Free-mail look-alikes, all under example.com (see the module docstring).
EN_FREEMAIL = [
    "gmail.example.com",
    "outlook.example.com",
    "yahoo.example.com",
    "icloud.example.com",
]
CN_FREEMAIL = ["qq.example.com", "163.example.com", "126.example.com", "sina.example.com"]

# (job title, department), senior roles rarer than working ones.
EN_JOBS = [
    ("CEO", "Management"), ("Managing Director", "Management"), ("CTO", "IT"), ("CFO", "Finance"),
    ("Head of Purchasing", "Purchasing"), ("Procurement Manager", "Purchasing"),
    ("Buyer", "Purchasing"), ("Buyer", "Purchasing"), ("Senior Buyer", "Purchasing"),
    ("Sales Director", "Sales"), ("Account Manager", "Sales"), ("Sales Engineer", "Sales"),
    ("Operations Manager", "Operations"), ("Logistics Coordinator", "Operations"),
    ("IT Manager", "IT"), ("Systems Administrator", "IT"), ("Software Engineer", "IT"),
    ("Marketing Manager", "Marketing"), ("Office Manager", "Administration"),
    ("Financial Controller", "Finance"), ("Accountant", "Finance"), ("Project Manager", "Projects"),
    ("Engineer", "Engineering"), ("Quality Manager", "Quality"), ("HR Manager", "Human Resources"),
]  # fmt: skip
CN_JOBS = [
    ("总经理", "总经办"), ("副总经理", "总经办"), ("董事长", "董事会"), ("采购经理", "采购部"),
    ("采购专员", "采购部"), ("采购专员", "采购部"), ("销售总监", "销售部"), ("销售经理", "销售部"),
    ("客户经理", "销售部"), ("技术总监", "技术部"), ("工程师", "技术部"), ("高级工程师", "研发中心"),
    ("财务经理", "财务部"), ("会计", "财务部"), ("市场经理", "市场部"), ("运营主管", "运营部"),
    ("物流主管", "物流部"), ("项目经理", "项目部"), ("行政主管", "行政部"), ("人力资源经理", "人力资源部"),
    ("IT经理", "信息部"), ("质量经理", "质量部"),
]  # fmt: skip
EN_NOTES = [
    "Met at the trade show; interested in volume pricing.",
    "Prefers email over phone. Follow up after the quarterly review.",
    "Decision maker for the EMEA rollout.",
    "Asked for a product demo next month.",
    "Budget approved for next fiscal year.",
    "Referred by an existing customer.",
    "Renewal discussion scheduled; wants a multi-year quote.",
    "Technical contact: needs API documentation.",
]
# Full-width Chinese punctuation is intended in these notes.
CN_NOTES = [
    "在郑州展会上认识，对批量采购价格感兴趣。",  # noqa: RUF001
    "偏好微信沟通，下季度跟进。",  # noqa: RUF001
    "负责华东区项目的最终决策。",
    "希望下个月安排产品演示。",
    "明年预算已批准。",
    "老客户推荐。",
    "续约洽谈中，需要多年期报价。",  # noqa: RUF001
    "技术对接人，需要接口文档。",  # noqa: RUF001
]
SOURCES = ["website", "referral", "event", "cold_call", "advertising", "partner", "social", ""]
SOURCE_WEIGHTS = [30, 15, 15, 10, 8, 7, 5, 10]
SIZES = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"]
SIZE_WEIGHTS = [20, 30, 25, 15, 7, 3]
STAGES = ["prospect", "customer", "former_customer"]
STAGE_WEIGHTS = [60, 30, 10]
TAGS = [
    ("VIP", "danger"), ("Newsletter", "info"), ("Partner", "success"), ("华东重点客户", "warning"),
    ("Trade show 2026", "primary"), ("Decision maker", "secondary"), ("Renewal due", "warning"),
    ("Churn risk", "danger"), ("Reference customer", "success"), ("郑州展会", "primary"),
    ("Webinar", "info"), ("Key account", "secondary"),
]  # fmt: skip


@dataclass(frozen=True)
class TeamSpec:
    name: str
    share: float  # of all contacts and companies
    size: int  # sales people, demo logins included
    chinese: float  # share of members with Chinese names


# Ownership is skewed like a real sales floor: one big team owns ~40% of the records, and inside
# each team a few people own most of them (Zipf).
TEAMS = [
    TeamSpec("Enterprise East", 0.40, 16, 0.5),
    TeamSpec("Mid-market", 0.20, 9, 0.3),
    TeamSpec("Central China", 0.15, 8, 1.0),
    TeamSpec("SMB Inside Sales", 0.12, 7, 0.3),
    TeamSpec("Europe", 0.08, 4, 0.0),
    TeamSpec("Partners", 0.05, 2, 0.0),
]
