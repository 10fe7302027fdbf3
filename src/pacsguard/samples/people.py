"""Clearly fake but realistic patients for the built-in sample data.

Every value here is invented. The names, phone numbers and addresses look real
on purpose (leak detectors must be tested against realistic shapes), but the
phone numbers use fictional ranges and the e-mail domains are ``.example``
(RFC 2606), so nothing points at a real person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["PATIENTS", "FakePatient"]


@dataclass(frozen=True)
class FakePatient:
    """One invented patient and the staff, site and device around their studies.

    ``study_dates``, ``study_times``, ``accession_numbers`` and
    ``study_descriptions`` are parallel: entry ``i`` describes study ``i``.
    """

    name: str  # DICOM PN, components separated by ``^``
    patient_id: str
    other_ids: tuple[str, ...]
    other_names: tuple[str, ...]
    birth_date: dt.date
    sex: str  # "M", "F" or "O"
    address: str
    phone: str
    email: str
    mother_birth_name: str
    study_dates: tuple[dt.date, ...]
    study_times: tuple[str, ...]  # HHMMSS
    accession_numbers: tuple[str, ...]
    study_descriptions: tuple[str, ...]
    referring_physician: str
    performing_physician: str
    operator_name: str
    institution_name: str
    institution_address: str
    station_name: str
    device_serial: str
    charset: str | None = None  # SpecificCharacterSet, None = default repertoire

    @property
    def family_name(self) -> str:
        return self.name.split("^")[0]

    @property
    def given_name(self) -> str:
        parts = self.name.split("^")
        return parts[1] if len(parts) > 1 else ""

    @property
    def free_text_name(self) -> str:
        """The name the way clinicians type it in free text: ``DUPONT Marie``."""
        return f"{self.family_name} {self.given_name}".strip()

    @property
    def birth_date_da(self) -> str:
        return self.birth_date.strftime("%Y%m%d")

    @property
    def birth_date_text(self) -> str:
        """Birth date the way it is typed in free text (day/month/year)."""
        return self.birth_date.strftime("%d/%m/%Y")

    def age_at(self, when: dt.date) -> str:
        """DICOM AS value (``067Y``) of the patient's age on ``when``."""
        years = when.year - self.birth_date.year
        if (when.month, when.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return f"{years:03d}Y"

    @property
    def encoding(self) -> str:
        """Python codec matching :attr:`charset` (what the values look like on disk)."""
        return "utf-8" if self.charset == "ISO_IR 192" else "latin-1"


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# Intervals between a patient's studies are realistic (weeks to years) so that
# date-shift consistency (same offset for every study of a patient) can be checked.
PATIENTS: tuple[FakePatient, ...] = (
    FakePatient(
        name="DUPONT^Marie^Claire",
        patient_id="PID-004711",
        other_ids=("IPP-7734519", "NIR-2560375112043"),
        other_names=("MARTIN^Marie^Claire",),
        birth_date=_d("1956-03-12"),
        sex="F",
        address="12 rue des Lilas, 75011 Paris, France",
        phone="+33 1 4567 8910",
        email="marie.dupont@mail.example",
        mother_birth_name="LEROY^Jeanne",
        study_dates=(_d("2021-11-02"), _d("2023-01-17"), _d("2023-06-14")),
        study_times=("083512", "141003", "101530"),
        accession_numbers=("ACC21110201", "ACC23011744", "ACC23061407"),
        study_descriptions=("CT THORAX", "MR GENOU DROIT", "CONTROLE THORAX"),
        referring_physician="BERNARD^Luc^^Dr",
        performing_physician="PETIT^Anne",
        operator_name="ROUX^Paul",
        institution_name="Hopital Saint-Exemple",
        institution_address="1 place de l'Exemple, 75010 Paris",
        station_name="SEX-CT01",
        device_serial="SN-CT-88412",
    ),
    FakePatient(
        name="NGUYEN^Van Minh",
        patient_id="PID-019283",
        other_ids=("MRN-55120987",),
        other_names=("NGUYEN^Minh",),
        birth_date=_d("1978-09-30"),
        sex="M",
        address="48 Harbour Road, Springfield 4021",
        phone="+61 7 5550 1234",
        email="vm.nguyen@post.example",
        mother_birth_name="TRAN^Thi Lan",
        study_dates=(_d("2022-02-08"), _d("2022-03-22"), _d("2024-05-03")),
        study_times=("093000", "161245", "074501"),
        accession_numbers=("A22-0208-117", "A22-0322-054", "A24-0503-009"),
        study_descriptions=("CT ABDOMEN PELVIS", "MR LIVER", "FOLLOW-UP"),
        referring_physician="WILLIAMS^Kate",
        performing_physician="CHEN^David",
        operator_name="BROWN^Tom",
        institution_name="Springfield General Example Hospital",
        institution_address="100 Main Street, Springfield 4000",
        station_name="SGH-MR2",
        device_serial="SN-MR-20931",
    ),
    FakePatient(
        name="O'BRIEN^Sean",
        patient_id="PID-000042",
        other_ids=("HSE-0098123",),
        other_names=(),
        birth_date=_d("1990-12-24"),
        sex="M",
        address="7 Quay Street, Galway H91 XXXX",
        phone="+353 91 555 0142",
        email="sean.obrien@mail.example",
        mother_birth_name="KELLY^Siobhan",
        study_dates=(_d("2020-07-19"), _d("2021-07-20"), _d("2021-08-03")),
        study_times=("220114", "112233", "090909"),
        accession_numbers=("GUH2007190033", "GUH2107200112", "GUH2108030007"),
        study_descriptions=("CT HEAD", "MR BRAIN", "CONTROL"),
        referring_physician="MURPHY^Aoife",
        performing_physician="WALSH^Conor",
        operator_name="RYAN^Niamh",
        institution_name="Example University Hospital Galway",
        institution_address="Newcastle Road, Galway",
        station_name="GUH-CT3",
        device_serial="SN-CT-31337",
    ),
    FakePatient(
        name="MÜLLER^Jürgen",
        patient_id="PID-731005",
        other_ids=("KV-A123456789",),
        other_names=("MUELLER^Juergen",),
        birth_date=_d("1949-05-08"),
        sex="M",
        address="Hauptstraße 5, 80331 München",
        phone="+49 89 5550 7788",
        email="j.mueller@post.example",
        mother_birth_name="SCHÄFER^Grete",
        study_dates=(_d("2019-10-01"), _d("2020-04-15"), _d("2022-12-12")),
        study_times=("101010", "130000", "084500"),
        accession_numbers=("KUM19100112", "KUM20041598", "KUM22121203"),
        study_descriptions=("CT THORAX NATIV", "MRT WIRBELSÄULE", "VERLAUF"),
        referring_physician="SCHMIDT^Günter^^Dr.med.",
        performing_physician="WEBER^Sabine",
        operator_name="FISCHER^Lena",
        institution_name="Klinikum Beispielstadt",
        institution_address="Klinikweg 1, 80000 München",
        station_name="KBS-CT1",
        device_serial="SN-CT-77001",
        charset="ISO_IR 192",
    ),
    FakePatient(
        name="SMITH^John^^Dr",
        patient_id="PID-558812",
        other_ids=("NHS-9434765919",),
        other_names=("SMITH^Johnny",),
        birth_date=_d("1965-01-01"),
        sex="M",
        address="221 Example Lane, London NW1 6XE",
        phone="+44 20 7946 0958",
        email="john.smith@mail.example",
        mother_birth_name="JONES^Mary",
        study_dates=(_d("2023-02-28"), _d("2023-03-01"), _d("2023-09-11")),
        study_times=("235959", "000512", "120000"),
        accession_numbers=("RX230228-77", "RX230301-02", "RX230911-15"),
        study_descriptions=("CT CHEST PE", "MR CARDIAC", "REVIEW"),
        referring_physician="TAYLOR^Emma",
        performing_physician="DAVIES^Owen",
        operator_name="EVANS^Ruth",
        institution_name="Royal Example Infirmary",
        institution_address="1 Infirmary Road, London",
        station_name="REI-CT-A",
        device_serial="SN-CT-50505",
    ),
    FakePatient(
        name="GARCÍA LÓPEZ^María José",
        patient_id="PID-300117",
        other_ids=("NHC-00771234",),
        other_names=("GARCIA LOPEZ^Maria Jose",),
        birth_date=_d("2001-06-15"),
        sex="F",
        address="Calle Mayor 10, 28013 Madrid",
        phone="+34 91 555 12 34",
        email="mj.garcia@correo.example",
        mother_birth_name="LÓPEZ^Carmen",
        study_dates=(_d("2024-01-09"), _d("2024-01-30"), _d("2024-07-22")),
        study_times=("081500", "093045", "170000"),
        accession_numbers=("HEJ24010901", "HEJ24013014", "HEJ24072233"),
        study_descriptions=("TC TORAX", "RM RODILLA", "CONTROL"),
        referring_physician="FERNÁNDEZ^Pablo",
        performing_physician="RUIZ^Elena",
        operator_name="MORENO^Luis",
        institution_name="Hospital Ejemplo de Madrid",
        institution_address="Avenida Ejemplo 1, Madrid",
        station_name="HEJ-CT02",
        device_serial="SN-CT-12021",
        charset="ISO_IR 100",
    ),
)
