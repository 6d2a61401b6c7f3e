"""A demo workspace: sample clinic documents that edgebox writes itself.

Ten short documents, invented for the demo (no real patient), in English and in
French: referral letters, lab results, intake and progress notes, a
prescription, a discharge summary; some routine, some with emergency signs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Set
from pathlib import Path

SAMPLES: dict[str, str] = {
    "referral_pregnancy_convulsion_en.txt": """\
REFERRAL LETTER
From: Maternity unit, Health Post of Lakeside        Date: 14/11/2026
To: District Hospital, Obstetrics

Patient ref: MAT-2231. Mrs A. K., 34-year-old woman, 32 weeks pregnant (G3P2).
She had a convulsion at 06:30 this morning lasting about two minutes, with
severe headache and blurred vision since yesterday. BP 168/112, HR 104/min.
Magnesium sulphate loading dose given at 07:10. Suspected eclampsia.
Please receive her urgently; she is travelling by ambulance with a midwife.
""",
    "labo_paludisme_enfant_fr.txt": """\
RÉSULTATS DE LABORATOIRE - Centre de santé de Bonaba
Date : 15/11/2026
Patient : réf. LAB-5530, garçon de 4 ans
Test de diagnostic rapide (TDR) paludisme : POSITIF (P. falciparum)
Hémoglobine : 10,8 g/dL
Glycémie : 5,1 mmol/L
Commentaire : paludisme simple, pas de signe de gravité. Enfant conscient,
boit et mange. Traitement ACT selon protocole national.
""",
    "intake_child_cough_en.txt": """\
INTAKE NOTE - Outpatient clinic, Riverside Health Centre, 16/11/2026
Child ref OPD-8812, 2-year-old girl, brought by her mother.
Complaint: cough and runny nose for 3 days, mild fever.
Temp 38.1 C, RR 32/min, HR 118/min, weight 11.4 kg.
Eating and drinking well, playful, no chest indrawing, no convulsions.
Plan: paracetamol, fluids, review in 3 days if not better.
""",
    "ordonnance_fr.txt": """\
ORDONNANCE
Dispensaire de Kalima - 16/11/2026
Patient : M. Jean D., 45 ans, dossier DSP-0457
- Amoxicilline 500 mg : 1 gélule 3 fois par jour pendant 7 jours
- Paracétamol 1 g : si douleur ou fièvre, maximum 3 fois par jour
Revoir dans 10 jours. Infection dentaire, état général conservé.
""",
    "reference_inconscient_fr.txt": """\
FICHE DE RÉFÉRENCE - Poste de santé de Douma
Date : 17/11/2026, 22h40
Patient : réf. PS-1180, homme de 58 ans, diabétique connu.
Trouvé inconscient à domicile par sa famille. Ne répond pas à la voix.
Respiration difficile, SpO2 84 % à l'air ambiant, TA 86/50, pouls 128/min.
Glycémie capillaire : 2,1 mmol/L, glucose 10 % donné.
Transfert immédiat vers l'hôpital régional demandé.
""",
    "lab_full_blood_count_en.txt": """\
LABORATORY REPORT - Lakeside Health Post laboratory
Date: 17/11/2026
Patient ref LAB-6021, 29-year-old man
Full blood count: haemoglobin 14.2 g/dL, white cells 6.8 x10^9/L,
platelets 245 x10^9/L. HIV rapid test: negative. Malaria RDT: negative.
All results within normal limits. No action needed.
""",
    "progress_note_diabetes_en.txt": """\
PROGRESS NOTE - Chronic care clinic, Riverside Health Centre, 18/11/2026
Patient ref CC-3307, 62-year-old woman, type 2 diabetes and hypertension.
Follow-up visit. Feels well, taking metformin 500 mg twice daily and
amlodipine 5 mg. BP 132/84, HR 76/min, fasting glucose 6.9 mmol/L.
Feet examined: no ulcer. Continue the same treatment; next visit in 3 months.
""",
    "admission_deshydratation_fr.txt": """\
FICHE D'ADMISSION - Centre de santé de Bonaba, 18/11/2026
Nourrisson réf. PED-0992, fille de 9 mois, amenée par sa mère.
Diarrhée aqueuse depuis 2 jours, vomissements. Léthargique, yeux enfoncés,
pli cutané persistant, ne peut pas boire. Déshydratation sévère.
T° 37,9 °C, FC 168/min, FR 48/min.
Perfusion de Ringer lactate débutée selon le plan C.
""",
    "referral_chest_pain_en.txt": """\
REFERRAL LETTER
From: Dr. M. Osei, Hillside Clinic                    Date: 19/11/2026
To: Medical ward, District Hospital

Re: patient ref HC-7745, 54-year-old man, smoker.
Central chest pain for 2 hours, radiating to the left arm, with sweating.
BP 150/95, HR 96/min, SpO2 95 %. Aspirin 300 mg given.
No ECG available here. Please assess today for possible acute coronary
syndrome.
""",
    "discharge_summary_en.txt": """\
DISCHARGE SUMMARY - District Hospital, Paediatric ward
Admitted: 10/11/2026   Discharged: 19/11/2026
Patient ref DH-4410, 7-year-old boy.
Diagnosis: community-acquired pneumonia, treated with IV then oral antibiotics.
On discharge: afebrile for 72 hours, eating well, RR 22/min, SpO2 98 %.
Follow-up at the local health post in one week to complete amoxicillin.
""",
}


def sample_sha256() -> dict[str, str]:
    """Each sample's name and the sha256 of its file, as the store records it."""
    return {
        name: hashlib.sha256(_content(text)).hexdigest()
        for name, text in SAMPLES.items()
    }


def write_demo_inbox(inbox: Path, *, skip: Set[str] = frozenset()) -> list[Path]:
    """Write the sample documents that are not there yet, nor already taken in
    (their sha256 in `skip`); return the new files."""
    inbox.mkdir(parents=True, exist_ok=True)
    written = []
    hashes = sample_sha256()
    for name, text in SAMPLES.items():
        path = inbox / name
        if not path.exists() and hashes[name] not in skip:
            path.write_bytes(_content(text))
            written.append(path)
    return written


def _content(text: str) -> bytes:
    return text.encode("utf-8")
