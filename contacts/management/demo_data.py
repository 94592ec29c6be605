"""Name, company and place pools for believable demo data (English and Chinese)."""

from __future__ import annotations

# (Chinese surname, pinyin)
CN_FAMILY = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
]  # fmt: skip
CN_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("霞", "xia"), ("平", "ping"),
    ("小明", "xiaoming"), ("建华", "jianhua"), ("志强", "zhiqiang"), ("秀英", "xiuying"),
    ("海燕", "haiyan"), ("晓东", "xiaodong"), ("丽娟", "lijuan"), ("国强", "guoqiang"),
    ("文博", "wenbo"), ("子涵", "zihan"), ("雨萱", "yuxuan"), ("浩然", "haoran"), ("欣怡", "xinyi"),
    ("俊杰", "junjie"), ("思远", "siyuan"), ("佳琪", "jiaqi"), ("宇航", "yuhang"), ("梓萱", "zixuan"),
]  # fmt: skip
EN_GIVEN = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
    "Margaret", "Steven", "Sandra", "Paul", "Ashley", "Andrew", "Emily", "Joshua", "Michelle",
    "Kenneth", "Amanda", "Kevin", "Melissa", "Brian", "Deborah", "George", "Stephanie", "Olivia",
    "Liam", "Emma", "Noah", "Ava", "Sophia", "Lucas", "Mia", "Zoë", "José", "Chloé", "Søren",
]  # fmt: skip
EN_FAMILY = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Müller", "Schmidt", "Dubois", "O'Brien", "Kowalski", "Núñez", "Rossi", "Jensen",
]  # fmt: skip
CN_COMPANY_PREFIX = [
    "郑州", "洛阳", "开封", "上海", "北京", "深圳", "广州", "杭州", "成都", "武汉", "南京", "西安",
]  # fmt: skip
CN_COMPANY_CORE = [
    "宇通", "华信", "中原", "恒达", "金盛", "瑞丰", "博远", "天成", "鼎新", "汇智", "安泰", "卓越",
    "星辰", "海川", "富源", "昌盛", "东方", "联创", "嘉禾", "永信",
]  # fmt: skip
CN_COMPANY_KIND = [
    ("物流有限公司", "logistics"), ("科技有限公司", "software"), ("制造有限公司", "manufacturing"),
    ("商贸有限公司", "retail"), ("建设集团", "construction"), ("医药有限公司", "healthcare"),
    ("能源股份有限公司", "energy"), ("农业发展有限公司", "agriculture"),
    ("教育咨询有限公司", "education"), ("金融服务有限公司", "finance"),
]  # fmt: skip
EN_COMPANY_CORE = [
    "Acme", "Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli",
    "Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Aperture", "Wonka", "Gringotts", "Oceanic",
    "Pied Piper", "Massive Dynamic", "Blue Sun",
]  # fmt: skip
EN_COMPANY_KIND = [
    ("Logistics", "logistics"), ("Software", "software"), ("Manufacturing", "manufacturing"),
    ("Retail", "retail"), ("Construction", "construction"), ("Health", "healthcare"),
    ("Energy", "energy"), ("Farms", "agriculture"), ("Learning", "education"),
    ("Capital", "finance"), ("Media", "media"), ("Hotels", "hospitality"),
]  # fmt: skip
CN_CITIES = [
    ("郑州", "河南省", "central_china"), ("洛阳", "河南省", "central_china"),
    ("武汉", "湖北省", "central_china"), ("上海", "上海市", "east_china"),
    ("杭州", "浙江省", "east_china"), ("南京", "江苏省", "east_china"),
    ("北京", "北京市", "north_china"), ("天津", "天津市", "north_china"),
    ("广州", "广东省", "south_china"), ("深圳", "广东省", "south_china"),
    ("成都", "四川省", "west_china"), ("西安", "陕西省", "west_china"),
]  # fmt: skip
CN_STREETS = ["金水路", "中原路", "花园路", "建设路", "人民路", "解放路", "文化路", "长江路"]
EN_CITIES = [
    ("Boston", "MA", "United States", "north_america"),
    ("Austin", "TX", "United States", "north_america"),
    ("Toronto", "ON", "Canada", "north_america"),
    ("São Paulo", "SP", "Brazil", "latin_america"),
    ("London", "", "United Kingdom", "europe"),
    ("Berlin", "", "Germany", "europe"),
    ("Lyon", "", "France", "europe"),
    ("Dubai", "", "United Arab Emirates", "middle_east_africa"),
    ("Singapore", "", "Singapore", "asia_pacific"),
    ("Sydney", "NSW", "Australia", "asia_pacific"),
]  # fmt: skip
EN_STREETS = ["Main St", "Oak Avenue", "High Street", "Market Street", "Park Road", "King St"]
JOB_TITLES = [
    "CEO", "CTO", "CFO", "Head of Purchasing", "Procurement Manager", "Sales Director",
    "Operations Manager", "IT Manager", "Marketing Manager", "Engineer", "Buyer", "Consultant",
    "总经理", "采购经理", "销售总监", "技术总监", "财务经理", "市场经理", "运营主管", "工程师",
]  # fmt: skip
DEPARTMENTS = ["Sales", "Purchasing", "IT", "Finance", "Operations", "采购部", "技术部", "市场部"]
TAGS = [
    ("VIP", "danger"), ("Newsletter", "info"), ("Partner", "success"), ("华东重点客户", "warning"),
    ("Trade show 2026", "primary"), ("Decision maker", "secondary"), ("Renewal due", "warning"),
    ("Churn risk", "danger"), ("Reference customer", "success"), ("郑州展会", "primary"),
    ("Webinar", "info"), ("Key account", "secondary"),
]  # fmt: skip
TEAMS = [
    ("Enterprise East", 0.40),
    ("Mid-market", 0.20),
    ("Central China", 0.15),
    ("SMB Inside Sales", 0.12),
    ("Europe", 0.08),
    ("Partners", 0.05),
]
