"""The Kota Bogor 2020 scenario, generated: households, the lists the city received, and what was intended.

Deterministic for a seed (`random.Random(seed)`), with no database: `plan(scale, seed)` returns the
people and households of the story (valid NIK and No. KK, Sundanese and Indonesian names, 1-6
members), the files of each step (kelurahan and department lists, the Disdukcapil extract, verval
results, rosters, cleansing lists, payers' reports) and the counts it intends. `salur_cases.demo.build`
replays it through the application; the program table is then computed from the read models and
compared with `Scenario.intended`, which never comes from the database.

At scale `s` each of Table 2's rows is `round(count * s)` households (Python's `round`); the story's
other figures (list sizes, quotas) scale the same way and are approximate, as in the paper. The story
(DOMAIN.md) as generated, at scale 1:

- April: kelurahan lists of ~104,000 households (~194,000 people listed, with the department lists'
  duplicates and NIK typos); Disdukcapil's extract is the reference for padan. The province's quota is
  54,000; 46,000 of the households Dinsos sent it are MATCHED; after its own sweep the province's
  roster names 33,262 (Bantuan Gubernur), paid from 15 April.
- The city pays 19,904 households not covered by the province from 27 April under SK 027.45-312
  (WALIKOTA tahap 1, by the city's rule); 29,320 it could not pay go on Kemensos's BST tahap V roster.
- May: ~54,000 self-registrations through SALUR; ~47,000 eligible households; the city's July tahap
  has 23,000 seats: its tahap 1 recipients still eligible first, then 9,002 new ones.
- June: Kemensos cleanses its list (explicit removals and households silently missing from tahap VI),
  adds self-registered households the city could not fund, and ~4,000 households never proposed by
  Dinsos appear on tahap V and VI.
- DTKS households (Pusdatin Kemensos) receive BPNT/BSP, BLT and PKH on Kemensos rosters.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import accumulate
from typing import TypeVar

from salur_cases import wilayah
from salur_cases.domain.clock import WIB
from salur_cases.domain.vocabulary import BudgetSource, ProgramGroup

TABLE_2: dict[str, int] = {
    "BPNT": 70_697,
    "BLT_DTKS": 3_139,
    "PKH": 1_103,
    "BST_KEMENSOS": 38_342,
    "WALIKOTA": 28_906,
    "GUBERNUR": 33_262,
}
"""Table 2 of the paper: households paid at least once by each program in Kota Bogor, 2020."""


@dataclass(frozen=True)
class ProgramSpec:
    """A program of the scenario, in Table 2's order."""

    code: str
    name: str
    budget_source: BudgetSource
    group: ProgramGroup


PROGRAMS: tuple[ProgramSpec, ...] = (
    ProgramSpec("BPNT", "BPNT/BSP (bantuan pangan non-tunai)", BudgetSource.APBN, ProgramGroup.DTKS),
    ProgramSpec("BLT_DTKS", "BLT (bantuan langsung tunai)", BudgetSource.APBN, ProgramGroup.DTKS),
    ProgramSpec("PKH", "PKH (Program Keluarga Harapan)", BudgetSource.APBN, ProgramGroup.DTKS),
    ProgramSpec("BST_KEMENSOS", "BLT / BST Kemensos", BudgetSource.APBN, ProgramGroup.NON_DTKS),
    ProgramSpec("WALIKOTA", "Bantuan Walikota", BudgetSource.APBD_KOTA, ProgramGroup.NON_DTKS),
    ProgramSpec("GUBERNUR", "Bantuan Gubernur", BudgetSource.APBD_PROVINSI, ProgramGroup.NON_DTKS),
)

STORY: dict[str, int] = {
    "city_lists": 104_000,  # households on kelurahan and department lists ("~104,000 city records")
    "province_quota": 54_000,
    "province_matched": 46_000,
    "padan_failures": 8_000,  # listed households failing padan (typos, deceased, moved, no e-KTP, ...)
    "department_duplicates": 10_400,  # households a department listed again
    "walikota_1": 19_904,
    "to_kemensos": 29_320,
    "self_registrations": 54_000,
    "self_corrections": 3_000,  # listed households that re-registered with corrected data
    "self_eligible": 47_000,
    "walikota_2_quota": 23_000,
    "never_proposed": 4_000,
    "kemensos_removed": 150,  # removals on a Kemensos cleansing list (reason and document)
    "kemensos_missing": 2_850,  # paid in tahap V, silently missing from tahap VI
}
"""The story's other figures at scale 1 (approximate in the paper; Table 2 wins where they disagree)."""

T = TypeVar("T")

SK_WALIKOTA_1 = "Keputusan Wali Kota Bogor Nomor 027.45-312 tanggal 26 April 2020"

MALE = (
    "Asep",
    "Ujang",
    "Dede",
    "Cecep",
    "Agus",
    "Budi",
    "Dadang",
    "Deden",
    "Endang",
    "Iwan",
    "Jajang",
    "Maman",
    "Nana",
    "Oman",
    "Ade",
    "Aris",
    "Eko",
    "Hendra",
    "Rudi",
    "Yayan",
    "Yusuf",
    "Muhammad",
    "Ahmad",
    "Rahmat",
    "Hidayat",
    "Iman",
    "Wawan",
    "Yanto",
    "Dodi",
    "Engkos",
    "Atang",
    "Usep",
    "Acep",
    "Encep",
    "Dudung",
    "Ipan",
    "Rizki",
    "Fajar",
    "Irfan",
    "Andri",
    "Ridwan",
    "Dani",
    "Galih",
    "Ilham",
    "Kurnia",
    "Tatang",
    "Ucup",
    "Abdul",
)
FEMALE = (
    "Siti",
    "Euis",
    "Neneng",
    "Eneng",
    "Ai",
    "Imas",
    "Iis",
    "Nining",
    "Yuyun",
    "Dewi",
    "Lilis",
    "Tati",
    "Cucu",
    "Enok",
    "Popon",
    "Rina",
    "Sri",
    "Nurhayati",
    "Kokom",
    "Enung",
    "Ela",
    "Iyah",
    "Titin",
    "Wulan",
    "Rini",
    "Fitri",
    "Nurul",
    "Yanti",
    "Rosita",
    "Mimin",
    "Entin",
    "Oom",
    "Dedeh",
    "Heni",
    "Lina",
    "Susi",
    "Yeni",
    "Ani",
)
SURNAME_MALE = (
    "Suryana",
    "Sukmana",
    "Permana",
    "Hidayat",
    "Rahmat",
    "Saepudin",
    "Sopian",
    "Kurniawan",
    "Setiawan",
    "Gunawan",
    "Firmansyah",
    "Nugraha",
    "Ramdani",
    "Hermawan",
    "Sudrajat",
    "Supriatna",
    "Mulyana",
    "Kusnadi",
    "Wijaya",
    "Maulana",
    "Rohman",
    "Hasanudin",
    "Komarudin",
    "Jaenudin",
    "Santoso",
    "Pratama",
    "Hakim",
)
SURNAME_FEMALE = (
    "Rohaeti",
    "Nurhasanah",
    "Hasanah",
    "Rahayu",
    "Lestari",
    "Komalasari",
    "Suryani",
    "Kurniasih",
    "Mulyani",
    "Handayani",
    "Nurjanah",
    "Sumarni",
    "Wulandari",
    "Rosmiati",
    "Aminah",
    "Fatimah",
    "Maryati",
    "Sartika",
)
SPELLINGS = {
    "Yusuf": "Yusup",
    "Muhammad": "Muhamad",
    "Ahmad": "Achmad",
    "Rahmat": "Rachmat",
    "Hidayat": "Hidajat",
    "Siti": "Sity",
    "Fitri": "Pitri",
    "Nurul": "Nurull",
    "Saepudin": "Saefudin",
    "Sopian": "Sofyan",
    "Firmansyah": "Firmansah",
    "Maulana": "Maolana",
    "Dewi": "Dewy",
    "Rohaeti": "Rohayati",
}
"""How a name was misspelt on a list (old spelling, Sundanese p/f): padan fails by NAME_MISMATCH."""

FAMILY_SIZES = ((1, 0.18), (2, 0.30), (3, 0.24), (4, 0.15), (5, 0.08), (6, 0.05))
"""Members per household (1-6)."""


@dataclass
class Person:
    """A person as Disdukcapil knows them."""

    nik: str
    name: str
    relationship: str
    birth_date: date
    status: str = "HIDUP"
    ektp: bool = True
    in_city: bool = True


@dataclass
class Family:
    """A household (KK): its card number, address, members as Disdukcapil knows them, and what a list says."""

    no_kk: str
    kelurahan: wilayah.Kelurahan
    rw: str
    rt: str
    members: list[Person]
    listed: list[Person] = field(default_factory=list)
    """The members as a list writes them (typos and misspellings included); default the true ones."""

    def rows_as_listed(self) -> list[Person]:
        """The member rows a list gives."""
        return self.listed or self.members


@dataclass
class Scenario:
    """The generated story: households by role in it, the counts intended, and the figures to print."""

    scale: float
    seed: int
    intended: dict[str, int]
    figures: dict[str, int]
    dtks: dict[str, list[Family]]
    city_lists: list[Family]
    department_lists: dict[str, list[Family]]
    gubernur: list[Family]
    walikota_1: list[Family]
    to_kemensos: list[Family]
    spare_eligible: list[Family]
    spare_ineligible: list[Family]
    padan_failures: list[Family]
    self_new: list[Family]
    self_corrections: list[Family]
    self_winners: list[Family]
    self_to_kemensos: list[Family]
    self_eligible_rest: list[Family]
    self_ineligible: list[Family]
    walikota_dropped: list[Family]
    kemensos_removed: list[Family]
    kemensos_missing: list[Family]
    never_proposed_5: list[str]
    never_proposed_6: list[str]

    def everyone(self) -> Iterator[Family]:
        """Every registered family (each once)."""
        for families in self.dtks.values():
            yield from families
        yield from self.city_lists
        yield from self.self_new


def scaled(count: int, scale: float) -> int:
    """A figure at scale `s`: round(count * s)."""
    return round(count * scale)


class _Registry:
    """Issues unique, valid NIK and No. KK."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serials: dict[str, int] = {}
        self.niks: set[str] = set()

    def _next(self, prefix: str) -> str:
        serial = self.serials.get(prefix)
        if serial is None:
            serial = int(self.rng.random() * 40)
        while True:
            serial += 1
            if serial > 9999:  # noqa: PLR2004 - four digits
                msg = "serials exhausted"
                raise RuntimeError(msg)
            if f"{prefix}{serial:04d}" not in self.niks:  # never a mistyped NIK already on a list
                self.serials[prefix] = serial
                return f"{prefix}{serial:04d}"

    def nik(self, kecamatan: str, birth: date, *, female: bool) -> str:
        day = birth.day + (40 if female else 0)
        nik = self._next(f"{kecamatan}{day:02d}{birth.month:02d}{birth.year % 100:02d}")
        self.niks.add(nik)
        return nik

    def no_kk(self, kecamatan: str) -> str:
        issued = date.fromordinal(date(2005, 1, 1).toordinal() + int(self.rng.random() * 15 * 365))
        return self._next(f"{kecamatan}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}")

    def typo(self, nik: str) -> str:
        """The NIK with one digit of its serial mistyped (still a plausible NIK, nobody else's)."""
        while True:
            position = self.rng.randrange(12, 16)
            digit = self.rng.choice([d for d in "0123456789" if d != nik[position]])
            typo = nik[:position] + digit + nik[position + 1 :]
            if typo[12:] != "0000" and typo not in self.niks:
                self.niks.add(typo)
                return typo


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible story, not a secret
        self.ids = _Registry(self.rng)
        self.kelurahan = wilayah.all_kelurahan()
        self.sizes = list(accumulate(w for _, w in FAMILY_SIZES))

    def pick(self, items: Sequence[T]) -> T:
        """One of the items (uniformly)."""
        return items[int(self.rng.random() * len(items))]

    def _birth(self, first: int, last: int) -> date:
        start = date(first, 1, 1).toordinal()
        return date.fromordinal(start + int(self.rng.random() * (last - first) * 365))

    def family(self, size: int | None = None) -> Family:
        rng, pick = self.rng, self.pick
        kel = pick(self.kelurahan)
        kec = kel.kecamatan.digits
        if size is None:
            size = 1 + bisect(self.sizes, rng.random() * self.sizes[-1])
        head_female = rng.random() < 0.12  # noqa: PLR2004
        head_birth = self._birth(1945, 1995)
        surname = pick(SURNAME_FEMALE if head_female else SURNAME_MALE)
        head_name = f"{pick(FEMALE if head_female else MALE)} {surname}"
        members = [
            Person(
                self.ids.nik(kec, head_birth, female=head_female), head_name, "KEPALA KELUARGA", head_birth
            )
        ]
        if size > 1 and not head_female:
            birth = date.fromordinal(head_birth.toordinal() + int(rng.random() * 8 * 365))
            name = f"{pick(FEMALE)} {pick(SURNAME_FEMALE)}"
            members.append(Person(self.ids.nik(kec, birth, female=True), name, "ISTRI", birth))
        while len(members) < size:
            female = rng.random() < 0.5  # noqa: PLR2004
            birth = self._birth(max(head_birth.year + 18, 1990), 2019)
            name = f"{pick(FEMALE)} {pick(SURNAME_FEMALE)}" if female else f"{pick(MALE)} {surname}"
            members.append(Person(self.ids.nik(kec, birth, female=female), name, "ANAK", birth))
        rw, rt = 1 + int(rng.random() * 15), 1 + int(rng.random() * 12)
        return Family(self.ids.no_kk(kec), kel, f"{rw:02d}", f"{rt:02d}", members)

    def listed_family(self) -> Family:
        """A household as a kelurahan list gives it: the head, often a spouse, sometimes a child."""
        rng = self.rng
        return self.family(1 + (rng.random() < 0.55) + (rng.random() < 0.12))  # noqa: PLR2004

    def families(self, count: int, maker: str = "family") -> list[Family]:
        make = self.listed_family if maker == "listed" else self.family
        return [make() for _ in range(count)]

    def spoil(self, family: Family, how: str) -> None:
        """Make the household fail padan: a typo on the list, a misspelt name, or what Disdukcapil records."""
        rng = self.rng
        person = rng.choice(family.members)
        if how == "typo":
            family.listed = [
                _replace(p, nik=self.ids.typo(p.nik)) if p is person else p for p in family.members
            ]
        elif how == "spelling":
            family.listed = [
                _replace(p, name=_misspell(p.name, rng)) if p is person else p for p in family.members
            ]
        elif how == "deceased":
            person.status = "MENINGGAL"
        elif how == "moved":
            person.status = "PINDAH"
        elif how == "outside":
            person.in_city = False
        else:
            family.members[0].ektp = False

    def no_kks(self, count: int) -> list[str]:
        return [self.ids.no_kk(self.rng.choice(self.kelurahan).kecamatan.digits) for _ in range(count)]


def _replace(person: Person, **changes: str) -> Person:
    return Person(**{**person.__dict__, **changes})


def _misspell(name: str, rng: random.Random) -> str:
    words = name.split()
    for i, word in enumerate(words):
        if word in SPELLINGS:
            words[i] = SPELLINGS[word]
            return " ".join(words)
    word = words[0]
    position = rng.randrange(1, len(word)) if len(word) > 1 else 0
    words[0] = word[:position] + word[position] + word[position:]  # a doubled letter
    return " ".join(words)


FAILURES = (
    ("typo", 0.35),
    ("spelling", 0.25),
    ("ektp", 0.15),
    ("deceased", 0.10),
    ("moved", 0.10),
    ("outside", 0.05),
)


def plan(scale: float = 1.0, seed: int = 2020) -> Scenario:
    """Generate the scenario at `scale` (1.0 = Kota Bogor 2020) for `seed`."""
    if scale <= 0:
        msg = "scale must be more than 0"
        raise ValueError(msg)
    gen = _Generator(seed)
    rng = gen.rng
    n = {code: scaled(count, scale) for code, count in TABLE_2.items()}
    s = {key: scaled(count, scale) for key, count in STORY.items()}

    dtks = {code: gen.families(n[code]) for code in ("BPNT", "BLT_DTKS", "PKH")}

    never = min(s["never_proposed"], n["BST_KEMENSOS"] - s["to_kemensos"])
    self_to_kemensos = n["BST_KEMENSOS"] - s["to_kemensos"] - never
    new_in_walikota_2 = n["WALIKOTA"] - s["walikota_1"]
    dropped = max(0, s["walikota_1"] - (s["walikota_2_quota"] - new_in_walikota_2))

    gubernur = gen.families(n["GUBERNUR"], "listed")
    walikota_1 = gen.families(s["walikota_1"], "listed")
    to_kemensos = gen.families(s["to_kemensos"], "listed")
    failures = gen.families(s["padan_failures"], "listed")
    hows = rng.choices([h for h, _ in FAILURES], [w for _, w in FAILURES], k=len(failures))
    for family, how in zip(failures, hows, strict=True):
        gen.spoil(family, how)
    spare = gen.families(
        max(0, s["city_lists"] - n["GUBERNUR"] - len(walikota_1) - len(to_kemensos) - len(failures)), "listed"
    )
    city_lists = [*gubernur, *walikota_1, *to_kemensos, *failures, *spare]
    rng.shuffle(city_lists)

    departments = ("DINAS:Pertanian", "DINAS:UMKM", "DINAS:Perhubungan")
    duplicated = rng.sample(city_lists, min(s["department_duplicates"], len(city_lists)))
    department_lists = {d: duplicated[i :: len(departments)] for i, d in enumerate(departments)}

    fixable = [f for f, how in zip(failures, hows, strict=True) if how in {"typo", "spelling"}]
    corrections = fixable[: s["self_corrections"]]
    eligible_new = max(new_in_walikota_2 + self_to_kemensos, s["self_eligible"] - len(corrections))
    self_new = gen.families(max(eligible_new, s["self_registrations"] - len(corrections)))
    ineligible = self_new[eligible_new:]
    for family in ineligible[: len(ineligible) * 3 // 10]:
        gen.spoil(family, rng.choice(["ektp", "typo", "moved"]))
    winners = self_new[:new_in_walikota_2]
    to_bst = self_new[new_in_walikota_2 : new_in_walikota_2 + self_to_kemensos]

    kept_bst = to_kemensos[:]
    removed = kept_bst[: s["kemensos_removed"]]
    missing = kept_bst[len(removed) : len(removed) + s["kemensos_missing"]]
    never_5 = gen.no_kks(never // 2)
    never_6 = gen.no_kks(never - never // 2)

    listed_people = sum(len(f.rows_as_listed()) for f in city_lists) + sum(
        len(f.rows_as_listed()) for f in duplicated
    )
    figures = {
        "people_on_lists": listed_people,
        "households_on_lists": len(city_lists),
        "department_duplicates": len(duplicated),
        "province_quota": s["province_quota"],
        "province_matched": s["province_matched"],
        "padan_failures": len(failures),
        "walikota_1": len(walikota_1),
        "to_kemensos": len(to_kemensos),
        "self_registrations": len(self_new) + len(corrections),
        "self_eligible": eligible_new + len(corrections),
        "walikota_2_quota": s["walikota_1"] - dropped + new_in_walikota_2,
        "walikota_1_dropped": dropped,
        "never_proposed": never,
        "kemensos_removed": len(removed),
        "kemensos_missing": len(missing),
    }
    return Scenario(
        scale=scale,
        seed=seed,
        intended=n,
        figures=figures,
        dtks=dtks,
        city_lists=city_lists,
        department_lists=department_lists,
        gubernur=gubernur,
        walikota_1=walikota_1,
        to_kemensos=to_kemensos,
        spare_eligible=spare[: len(spare) // 2],
        spare_ineligible=spare[len(spare) // 2 :],
        padan_failures=failures,
        self_new=self_new,
        self_corrections=corrections,
        self_winners=winners,
        self_to_kemensos=to_bst,
        self_eligible_rest=self_new[new_in_walikota_2 + self_to_kemensos : eligible_new],
        self_ineligible=ineligible,
        walikota_dropped=walikota_1[:dropped],
        kemensos_removed=removed,
        kemensos_missing=missing,
        never_proposed_5=never_5,
        never_proposed_6=never_6,
    )


def moment(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A moment of the story, in WIB."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB)


def registration_rows(families: Sequence[Family], source: str) -> list[list[str]]:
    """Rows of a registrations file (Indonesian headers): one per listed member."""
    rows = []
    for family in families:
        kel = family.kelurahan
        for p in family.rows_as_listed():
            rows.append(
                [
                    family.no_kk,
                    p.nik,
                    p.name,
                    p.relationship,
                    kel.kecamatan.name,
                    kel.name,
                    family.rw,
                    family.rt,
                    source,
                    p.birth_date.isoformat(),
                ]
            )
    return rows


REGISTRATION_HEADER = [
    "no_kk",
    "nik",
    "nama",
    "hubungan",
    "kecamatan",
    "kelurahan",
    "rw",
    "rt",
    "sumber",
    "tanggal_lahir",
]
POPULATION_HEADER = ["nik", "no_kk", "nama", "tanggal_lahir", "status", "ektp", "kelurahan"]


def population_rows(families: Sequence[Family]) -> list[list[str]]:
    """Rows of Disdukcapil's extract: every person of these families as Disdukcapil records them."""
    return [
        [
            p.nik,
            f.no_kk,
            p.name,
            p.birth_date.isoformat(),
            p.status,
            "Y" if p.ektp else "N",
            f.kelurahan.code if p.in_city else "",
        ]
        for f in families
        for p in f.members
    ]
