"""Deterministic Ukrainian fake data: people, companies, phones, e-mails, cities, a product catalogue.

Everything comes from one ``random.Random`` and one seeded ``Faker('uk_UA')``, so the same seed
gives the same data. Faker is only used where it adds realism (names, streets); the bulk of the
choices use the plain RNG, which is much faster.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from faker import Faker

# (city, relative weight): bigger cities order more.
CITIES = [
    ("Київ", 30),
    ("Львів", 10),
    ("Одеса", 9),
    ("Дніпро", 9),
    ("Харків", 9),
    ("Запоріжжя", 5),
    ("Вінниця", 4),
    ("Полтава", 3),
    ("Івано-Франківськ", 3),
    ("Тернопіль", 3),
    ("Чернігів", 2),
    ("Житомир", 2),
    ("Черкаси", 2),
    ("Рівне", 2),
    ("Луцьк", 2),
    ("Ужгород", 2),
    ("Хмельницький", 2),
    ("Чернівці", 2),
    ("Суми", 2),
    ("Миколаїв", 2),
    ("Біла Церква", 1),
    ("Кропивницький", 1),
]

# Ukrainian mobile operator codes (Kyivstar, Vodafone, lifecell, 3Mob).
MOBILE_CODES = ("67", "68", "96", "97", "98", "50", "66", "95", "99", "63", "73", "93", "91")
EMAIL_DOMAINS = ("gmail.com", "ukr.net", "i.ua", "meta.ua", "email.ua")
TAGS = ("vip", "опт", "постійний клієнт", "instagram", "повернення", "подарунок")
ACCOUNT_SOURCES = (("website", 40), ("instagram", 15), ("rozetka", 15), ("prom", 10), ("phone", 12), ("referral", 8))
COMPANY_WORDS = (
    "Ромашка",
    "Карпати",
    "Дніпро-Трейд",
    "Світанок",
    "Агроленд",
    "Техносвіт",
    "Затишок",
    "Кава Плюс",
    "Подільський смак",
    "Бджілка",
    "Мрія",
    "Поділля",
    "Галицькі смаколики",
    "Вишиванка",
    "Сонячний дім",
    "Еко Ферма",
    "Буковина",
    "Зелена гілка",
    "Оберіг",
    "Лелека",
)
POSITIONS = ("Директор", "Менеджер із закупівель", "Бухгалтер", "Офіс-менеджер", "Логіст")

# sku, title, price in UAH
PRODUCTS = [
    ("KTL-001", "Електрочайник Philips HD9350", "1299.00"),
    ("KTL-002", "Електрочайник Xiaomi Mi Kettle", "899.00"),
    ("COF-010", "Кавоварка ріжкова De'Longhi EC235", "4599.00"),
    ("COF-011", "Кава в зернах Lavazza Crema e Aroma 1 кг", "749.90"),
    ("COF-012", "Кава мелена Jacobs Monarch 250 г", "189.50"),
    ("TEA-020", "Чай зелений Greenfield 100 пак.", "219.00"),
    ("TEA-021", "Чай трав'яний «Карпатський збір»", "95.00"),
    ("HON-030", "Мед гречаний 500 г", "175.00"),
    ("HON-031", "Мед акацієвий 1 кг", "320.00"),
    ("BLN-040", "Блендер Bosch MMB6141B", "3299.00"),
    ("MIX-041", "Міксер Tefal HT4101", "1149.00"),
    ("PAN-050", "Сковорода Tefal Ingenio 26 см", "1099.00"),
    ("PAN-051", "Каструля емальована 3 л", "649.00"),
    ("KNF-052", "Набір ножів Fissman 5 предметів", "1399.00"),
    ("TOW-060", "Рушник махровий 70×140", "329.00"),
    ("BED-061", "Комплект постільної білизни, бязь, двоспальний", "1290.00"),
    ("PIL-062", "Подушка антиалергенна 50×70", "459.00"),
    ("EMB-063", "Вишиванка жіноча, льон", "2450.00"),
    ("EMB-064", "Вишиванка чоловіча, льон", "2590.00"),
    ("SOC-065", "Шкарпетки бавовняні, 5 пар", "199.00"),
    ("PHN-070", "Смартфон Samsung Galaxy A15 128 ГБ", "7499.00"),
    ("PHN-071", "Навушники бездротові JBL Tune 520BT", "1999.00"),
    ("PWB-072", "Павербанк Xiaomi 20000 мА·год", "1149.00"),
    ("CBL-073", "Кабель USB-C 1 м", "149.00"),
    ("CHG-074", "Зарядний пристрій 20 Вт", "399.00"),
    ("LMP-075", "Лампа настільна LED", "689.00"),
    ("BAT-076", "Батарейки AA, 4 шт.", "89.90"),
    ("BOK-080", "Книга «Кобзар»", "350.00"),
    ("BOK-081", "Книга «Тіні забутих предків»", "280.00"),
    ("TOY-082", "Конструктор LEGO Classic 11005", "1499.00"),
    ("TOY-083", "Пазл 1000 елементів «Карпати»", "329.00"),
    ("CSM-090", "Крем для рук 75 мл", "119.00"),
    ("CSM-091", "Шампунь 400 мл", "159.90"),
    ("CSM-092", "Зубна паста 100 мл", "79.90"),
    ("PET-093", "Корм для котів сухий 2 кг", "549.00"),
    ("PET-094", "Наповнювач для котячого туалету 5 л", "189.00"),
    ("GRD-095", "Насіння томатів «Бичаче серце»", "24.50"),
    ("GRD-096", "Лійка садова 10 л", "239.00"),
    ("SPT-097", "Килимок для йоги 6 мм", "499.00"),
    ("SPT-098", "Пляшка для води 750 мл", "259.00"),
]
ORDER_COMMENTS = (
    "Передзвоніть перед відправкою",
    "Подарункова упаковка, будь ласка",
    "Доставка після 18:00",
    "Оплата при отриманні",
    "Клієнт просить не телефонувати, писати у Viber",
    "Перевірити комплектацію",
    "Повторне замовлення",
)

_TRANSLIT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "h",
        "ґ": "g",
        "д": "d",
        "е": "e",
        "є": "ie",
        "ж": "zh",
        "з": "z",
        "и": "y",
        "і": "i",
        "ї": "i",
        "й": "i",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ь": "",
        "ю": "iu",
        "я": "ia",
        "'": "",
        "’": "",
        "ʼ": "",
        "-": "",
        " ": "",
    }
)


def translit(text: str) -> str:
    """Ukrainian to Latin letters (the official 2010 table, simplified) for e-mail addresses."""
    return text.lower().translate(_TRANSLIT)


@dataclass
class FakePerson:
    name: str
    first_name: str
    last_name: str
    phones: list[str]
    emails: list[str]


@dataclass
class FakeAccount:
    kind: str
    name: str
    city: str
    phones: list[str]
    emails: list[str]
    addresses: list[str]
    tags: list[str]
    source: str
    custom_fields: dict
    contacts: list[tuple[str, str, list[str], list[str]]] = field(
        default_factory=list
    )  # name, position, phones, emails
    # Who receives the parcels: the person, or a contact of the company.
    recipient_name: str = ""
    recipient_phone: str = ""


class FakeData:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.faker = Faker("uk_UA")
        self.faker.seed_instance(seed)
        self._phones: set[str] = set()
        self._emails: set[str] = set()
        self._cities = [c for c, _ in CITIES]
        self._city_weights = [w for _, w in CITIES]
        self._sources = [s for s, _ in ACCOUNT_SOURCES]
        self._source_weights = [w for _, w in ACCOUNT_SOURCES]

    # -- small parts -----------------------------------------------------------------

    def city(self) -> str:
        return self.rng.choices(self._cities, self._city_weights)[0]

    def mobile_phone(self) -> str:
        """A new (unused in this run) Ukrainian mobile number in E.164, valid per phonenumbers."""
        while True:
            number = f"+380{self.rng.choice(MOBILE_CODES)}{self.rng.randrange(10_000_000):07d}"
            if number in self._phones:
                continue
            parsed = phonenumbers.parse(number, "UA")
            if phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in (
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
            ):
                self._phones.add(number)
                return number

    def email(self, first: str, last: str) -> str:
        local = self.rng.choice(
            (f"{translit(first)}.{translit(last)}", f"{translit(first)[0]}{translit(last)}", translit(last))
        )
        domain = self.rng.choice(EMAIL_DOMAINS)
        address = f"{local}@{domain}"
        while address in self._emails:
            address = f"{local}{self.rng.randrange(1, 1000)}@{domain}"
        self._emails.add(address)
        return address

    def person(self, with_email: float = 0.6) -> FakePerson:
        if self.rng.random() < 0.55:
            first, last = self.faker.first_name_female(), self.faker.last_name_female()
        else:
            first, last = self.faker.first_name_male(), self.faker.last_name_male()
        phones = [self.mobile_phone()]
        if self.rng.random() < 0.1:
            phones.append(self.mobile_phone())
        emails = [self.email(first, last)] if self.rng.random() < with_email else []
        return FakePerson(f"{first} {last}", first, last, phones, emails)

    def street_address(self, city: str) -> str:
        return f"{city}, {self.faker.street_address()}"

    # -- accounts --------------------------------------------------------------------

    def account(self) -> FakeAccount:
        city = self.city()
        source = self.rng.choices(self._sources, self._source_weights)[0]
        tags = sorted({self.rng.choice(TAGS) for _ in range(self.rng.choice((0, 0, 0, 1, 1, 2)))})
        addresses = [self.street_address(city)] if self.rng.random() < 0.5 else []
        if self.rng.random() < 0.12:
            return self._company(city, source, tags, addresses)
        person = self.person()
        return FakeAccount(
            kind="person",
            name=person.name,
            city=city,
            phones=person.phones,
            emails=person.emails,
            addresses=addresses,
            tags=tags,
            source=source,
            custom_fields={},
            recipient_name=person.name,
            recipient_phone=person.phones[0],
        )

    def _company(self, city: str, source: str, tags: list[str], addresses: list[str]) -> FakeAccount:
        contacts = []
        if self.rng.random() < 0.6:
            brand = self.rng.choice(COMPANY_WORDS)
            name = f"ТОВ «{brand}»"
            custom = {"edrpou": f"{self.rng.randrange(10_000_000, 45_000_000):08d}"}
        else:  # a sole trader: the owner is the first contact
            owner = self.person(with_email=0.5)
            brand = owner.last_name
            name = f"ФОП {owner.last_name} {owner.first_name[0]}."
            custom = {"rnokpp": f"{self.rng.randrange(10**9, 10**10):010d}"}
            contacts.append((owner.name, "Власник", owner.phones[:1], owner.emails))
        for _ in range(self.rng.choice((1, 1, 2, 3)) - len(contacts)):
            p = self.person(with_email=0.8)
            contacts.append((p.name, self.rng.choice(POSITIONS), p.phones[:1], p.emails))
        office_phone = self.mobile_phone()
        slug = "".join(ch for ch in translit(brand) if ch.isascii() and ch.isalnum()) or "shop"
        email = f"office@{slug}.ua"
        while email in self._emails:
            email = f"office{self.rng.randrange(1, 1000)}@{slug}.ua"
        self._emails.add(email)
        main = contacts[0]
        return FakeAccount(
            kind="company",
            name=name,
            city=city,
            phones=[office_phone],
            emails=[email],
            addresses=addresses or [self.street_address(city)],
            tags=tags,
            source=source,
            custom_fields=custom,
            contacts=contacts,
            recipient_name=main[0],
            recipient_phone=main[2][0],
        )


PRODUCT_PRICES = [(sku, title, Decimal(price)) for sku, title, price in PRODUCTS]
