#!/usr/bin/env python3
"""Typed `details` payload schemas for the BrainSTEM OpenAPI document.

Reads the schema reference pages of the BrainSTEM API docs
(``<docs_dir>/schemas/*.md``; ``docs_dir`` is the docs' ``api`` directory, or the
``schemas`` directory itself) and turns every documented (group, type) pair into an
OpenAPI 3.0.3 component schema following the "Typed details" section of
``schema/CONVENTIONS.md``.

Public API (used by ``tools/spec/draft.py``):

* ``details_components(docs_dir) -> dict``: component name -> schema. Contains one
  ``<Group><Type>Details`` schema per documented type, one ``<Kind>Unit`` schema per
  quantity kind and one ``<Group>Type`` enum per group.
* ``details_groups() -> dict``: group name -> {"types", "models", "tag", "content", ...}.

CLI: ``python3 tools/spec/details.py <docs_dir> --out /tmp/details.json``.

Standard library only (Python 3.11). Nothing here is read at SDK build/test time; the
generated output is merged into ``schema/brainstem.openapi.json`` by draft.py.

Every departure from the docs is written down below in ``EXAMPLE_CORRECTIONS``,
``QUANTITY_KIND_OVERRIDES``, ``ARRAY_ITEM_DECISIONS`` (each with its reason) and
summarised in ``schema/decisions/details.md``.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys

# --------------------------------------------------------------------------------------
# Groups: which docs page, which models carry them, which JSON keys hold selector/payload.
# The type lists are facts copied from the docs' quick type maps; details_components()
# checks that the parsed docs still agree with them (so details_groups() needs no docs).
# --------------------------------------------------------------------------------------

GROUP_ORDER = [
    "Coordinates",
    "ConsumableStock",
    "DataAcquisition",
    "Equipment",
    "Manipulation",
    "Procedure",
    "ProcedureLog",
    "SubjectLog",
]

GROUP_FILES = {
    "Coordinates": "coordinates.md",
    "ConsumableStock": "consumablestock.md",
    "DataAcquisition": "dataacquisition.md",
    "Equipment": "equipment.md",
    "Manipulation": "manipulation.md",
    "Procedure": "procedure.md",
    "ProcedureLog": "procedurelog.md",
    "SubjectLog": "subjectlog.md",
}

GROUP_MODELS = {
    # Procedures and equipment both carry coordinates_system / coordinates_details.
    "Coordinates": ["modules/procedure", "modules/equipment"],
    "ConsumableStock": ["modules/consumablestock"],
    "DataAcquisition": ["modules/dataacquisition"],
    "Equipment": ["modules/equipment"],
    "Manipulation": ["modules/manipulation"],
    "Procedure": ["modules/procedure"],
    # Log models: the record carries `type`; the payload sits in each entry of `entries`.
    "ProcedureLog": ["modules/procedurelog"],
    "SubjectLog": ["modules/subjectlog"],
}

# Subject log types whose entries are intervals (start_date_time + end_date_time) rather
# than instants (date_time), per the subject log model page. Informational for draft.py.
INTERVAL_ENTRY_TYPES = {
    "SubjectLog": ["Housing", "FoodDeprivation", "WaterDeprivation", "Habituation", "Handling",
                   "TrainingSession"],
}

GROUP_TYPES = {
    "Coordinates": [
        "CCF_XYZ_Absolute", "External_XYZ_Absolute", "Stereotaxic_BregmaAbsolute",
        "Stereotaxic_BregmaBrainSurface", "Stereotaxic_LambdaAbsolute",
        "Stereotaxic_LambdaBrainSurface",
    ],
    "ConsumableStock": [
        "ChemicalReagent", "ConsumableDevice", "ImmunoReagent", "ImplantMaterial",
        "OpticFiber", "OpticalComponent", "PharmacologicalAgent", "PhysiologicalSolution",
        "SiliconProbe", "SingleWireElectrode", "SurgicalDisposable", "TracerDye",
        "VirusSolution",
    ],
    "DataAcquisition": [
        "Audio", "BehavioralTracking", "ComputedTomography", "ConfocalMicroscopy",
        "Electroencephalography", "Electroneurogram", "ExtracellularEphys",
        "FiberPhotometry", "FunctionalMagneticResonanceImaging",
        "FunctionalUltrasoundImaging", "GeneralTimeSeries", "IntracellularEphys",
        "LightFieldMicroscopy", "MagneticResonanceImaging", "Magnetoencephalography",
        "Miniscope", "OpticalCoherenceTomography", "PositronEmissionTomography",
        "SinglePhotonEmissionComputedTomography", "SinglePhotonMicroscopy",
        "ThreePhotonMicroscopy", "TwoPhotonMicroscopy", "VideoTracking",
    ],
    "Equipment": [
        "Amplifier", "AnesthesiaSystem", "AntiVibrationTable", "BehaviorRig",
        "BiosafetyCabinet", "Camera", "Computer", "DataAcquisitionSystem",
        "DrugDeliverySystem", "ElectroencephalographySystem", "ElectromyographyMachine",
        "ElectronicComponent", "EphysRig", "FiberPhotometrySystem", "FloatingAirPlatform",
        "ForcePlate", "FumeHood", "GlassMicropipettePuller", "HumidityController",
        "HumiditySensor", "InjectionSystem", "IontophoresisStimulator", "Laser", "LedDriver",
        "LightEmitter", "LightSensor", "MagneticResonanceImagingSystem",
        "MagnetoencephalographySystem", "Magnetometer", "Microcontroller",
        "Micromanipulator", "Microphone", "Microscope", "Miniscope", "Monitor",
        "MotionTrackingSystem", "NoiseIsolationChamber", "OnePhotonMicroscope", "OphysRig",
        "OpticalCoherenceTomography", "Oscilloscope", "PerfusionSystem", "Photodetector",
        "PressureSensor", "RunningWheel", "SignalProcessingUnit", "SingleBoardComputer",
        "SinglePhotonEmissionComputedTomography", "Speaker", "StereotaxicFrame",
        "StimulationDevice", "SurgicalPowerTool", "TemperatureSensor", "ThermalController",
        "ThreePhotonMicroscopy", "Treadmill", "TwoPhotonMicroscope",
        "UltrasoundImagingSystem",
    ],
    "Manipulation": [
        "AuditoryStimulation", "DeepBrainStimulation", "ElectricalStimulation",
        "ElectromagneticFieldStimulation", "LiquidPerturbation", "Microperfusion",
        "MultisensoryStimulation", "OdorStimulation", "OptogeneticStimulation",
        "PharmacologicalInhalation", "PharmacologicalInjection",
        "PharmacologicalSuperfusion", "TactileStimulation", "ThermalPerturbation",
        "TranscranialElectricalStimulation", "TranscranialMagneticStimulation",
        "UltrasoundStimulation", "VisualStimulation",
    ],
    "Procedure": [
        "Anesthesia", "AuditoryStimulation", "BarbiturateInjection", "BehavioralTracking",
        "BloodPressureSensorImplant", "BrainExtraction", "BrainLesion", "BrainSlice",
        "BreathingSensorImplant", "BurrHole", "CatheterImplant", "CervicalDislocation",
        "Co2ChamberEuthanasia", "CranialWindow", "Craniectomy", "Craniotomy",
        "Cryosectioning", "Decapitation", "EcgImplant", "EegImplant", "EmgImplant",
        "GenericImplant", "GrinLensImplant", "HeadFixation", "Headcap", "Headpost",
        "InhalantOverdose", "Injection", "NerveCuffImplant", "OdorStimulation",
        "OpticFiberImplant", "PerfusionFixation", "PrismImplant",
        "ReferenceElectrodeImplant", "SiliconProbeImplant", "SingleWireElectrodeImplant",
        "TactileStimulation", "TemperatureSensorImplant", "TetrodeWireElectrodeImplant",
        "TissueClearing", "VibratomeSectioning", "VirusInjection", "VisualStimulation",
    ],
    "ProcedureLog": ["Impedances", "LinearDisplacement", "Tetrodes4", "Tetrodes8"],
    "SubjectLog": [
        "FoodConsumption", "FoodDeprivation", "GenericObservation", "Genotyping",
        "Habituation", "Handling", "HargreavesTest", "Housing", "TrainingSession",
        "VonFreyTest", "WaterConsumption", "WaterDeprivation", "Weighing", "Wellness",
    ],
}

# --------------------------------------------------------------------------------------
# Quantity kinds. A measured value is {"value": number, "unit": <enum>}. Each field's unit
# list is classified into one physical dimension ("kind"). Units are mapped to kinds here;
# a field whose documented units span more than one kind needs an explicit entry in
# QUANTITY_KIND_OVERRIDES (otherwise details_components() raises).
# --------------------------------------------------------------------------------------

UNIT_KINDS = {
    "Length": ["nm", "µm", "mm", "cm", "m"],
    "Area": ["nm²", "µm²", "mm²", "cm²", "m²"],
    "Volume": ["pL", "nL", "µL", "mL", "L"],
    "Time": ["µs", "ms", "s", "min", "h", "days"],
    "Frequency": ["Hz", "kHz", "MHz", "GHz", "RPM"],
    "Angle": ["°"],
    "Temperature": ["°C", "K", "°F"],
    "Mass": ["µg", "mg", "g", "kg"],
    "Voltage": ["nV", "µV", "mV", "V"],
    "Current": ["nA", "µA", "mA", "A"],
    "Power": ["µW", "mW", "W", "kW"],
    "PowerDensity": ["mW/cm²", "W/cm²"],
    "Resistance": ["Ω", "kΩ", "MΩ"],
    "Pressure": ["Pa", "kPa", "MPa"],
    "Force": ["µN", "mN", "N", "gf", "kgf"],
    "MagneticField": ["µT", "mT", "T"],
    "FlowRate": ["nL/s", "µL/s", "mL/s", "L/s", "nL/min", "µL/min", "mL/min", "L/min"],
    "Concentration": [
        "ng/mL", "µg/mL", "mg/mL", "µg/L", "mg/L", "g/L", "nM", "µM", "mM", "M",
        "% w/v", "% v/v", "% w/w", "%", "ppm", "ppb",
    ],
    "Dose": ["µg/kg", "mg/kg", "g/kg"],
    "Titer": ["vg/mL", "TU/mL", "pfu/mL"],
    "MolarMass": ["Da", "kDa", "g/mol"],
    "SoundLevel": ["dB", "dB SPL"],
}

# Short own-words explanation of each kind, emitted on the <Kind>Unit schema.
KIND_DESCRIPTIONS = {
    "Length": "Units for lengths, distances, depths and coordinates.",
    "Area": "Units for surface areas.",
    "Volume": "Units for volumes.",
    "Time": "Units for durations and time spans.",
    "Frequency": "Units for rates of repetition (includes RPM for rotational speed).",
    "Angle": "Units for angles.",
    "Temperature": "Units for temperatures.",
    "Mass": "Units for masses and weights.",
    "Voltage": "Units for electric potential.",
    "Current": "Units for electric current.",
    "Power": "Units for power (e.g. laser or light power).",
    "PowerDensity": "Units for power per area (e.g. acoustic intensity).",
    "Resistance": "Units for electrical resistance / impedance magnitude.",
    "Pressure": "Units for pressure.",
    "Force": "Units for force (includes gram-force and kilogram-force).",
    "MagneticField": "Units for magnetic flux density; also carries '% MSO' (percent of "
                     "maximum stimulator output), the documented alternative for TMS amplitude.",
    "FlowRate": "Units for volumetric flow rate; also carries '%', which the docs allow "
                "for an oxygen flow-rate field.",
    "Concentration": "Units for concentration: mass per volume, molar, percentage and "
                     "parts-per notations; also carries the flow-rate units the docs allow "
                     "for one inhalant concentration field.",
    "Dose": "Units for dose per body mass.",
    "Titer": "Units for viral titer (particles or infectious units per volume).",
    "MolarMass": "Units for molecular weight.",
    "SoundLevel": "Units for sound amplitude (decibels); also carries 'Pa', the documented "
                  "sound-pressure alternative.",
}

# Readable Rust variant names of every unit symbol (`x-enum-varnames` on the <Kind>Unit schemas):
# the SI name in British spelling, so `µm` (Micrometre) and `µM` (Micromolar), or `mm`
# (Millimetre) and `mM` (Millimolar), can no longer be told apart only by letter case. A symbol
# means the same in every kind it appears in; the wire value stays the symbol.
UNIT_PREFIXES = {"p": "Pico", "n": "Nano", "µ": "Micro", "m": "Milli", "c": "Centi", "": "", "k": "Kilo",
                 "M": "Mega", "G": "Giga"}
UNIT_BASES = {"m": "Metre", "L": "Litre", "s": "Second", "g": "Gram", "V": "Volt",
              "A": "Ampere", "W": "Watt", "Pa": "Pascal", "N": "Newton", "T": "Tesla",
              "Hz": "Hertz", "Ω": "Ohm", "M": "Molar", "Da": "Dalton"}
UNIT_SPECIAL = {
    "min": "Minute", "h": "Hour", "days": "Day", "RPM": "RevolutionsPerMinute", "°": "Degree",
    "°C": "DegreeCelsius", "K": "Kelvin", "°F": "DegreeFahrenheit", "gf": "GramForce",
    "kgf": "KilogramForce", "% MSO": "PercentMaximumStimulatorOutput", "%": "Percent",
    "% w/v": "PercentWeightPerVolume", "% v/v": "PercentVolumePerVolume",
    "% w/w": "PercentWeightPerWeight", "ppm": "PartsPerMillion", "ppb": "PartsPerBillion",
    "vg/mL": "VectorGenomesPerMillilitre", "TU/mL": "TransducingUnitsPerMillilitre",
    "pfu/mL": "PlaqueFormingUnitsPerMillilitre", "g/mol": "GramPerMole", "dB": "Decibel",
    "dB SPL": "DecibelSoundPressureLevel",
}


def unit_name(symbol: str) -> str:
    """The Rust variant name of a unit symbol: `µm` -> Micrometre, `mW/cm²` ->
    MilliwattPerSquareCentimetre, `µM` -> Micromolar. Raises on a symbol it cannot name."""
    if symbol in UNIT_SPECIAL:
        return UNIT_SPECIAL[symbol]
    if "/" in symbol:
        num, den = symbol.split("/", 1)
        return f"{unit_name(num)}Per{unit_name(den)}"
    if symbol.endswith("²"):
        return "Square" + unit_name(symbol[:-1])
    for base in sorted(UNIT_BASES, key=len, reverse=True):
        if symbol.endswith(base) and symbol[: -len(base)] in UNIT_PREFIXES:
            prefix = UNIT_PREFIXES[symbol[: -len(base)]]
            word = UNIT_BASES[base]
            return prefix + (word.lower() if prefix else word)
    raise ValueError(f"no readable name for the unit {symbol!r}: add it to UNIT_SPECIAL")


def unit_varnames(symbols: list) -> list:
    """`x-enum-varnames` for a unit enum, checked to be unique within it."""
    names = [unit_name(u) for u in symbols]
    if len(set(names)) != len(names):
        raise ValueError(f"unit names collide: {list(zip(symbols, names))}")
    return names

# (group, type, field) -> (kind, reason). Used for fields whose documented unit list mixes
# dimensions. The field keeps its full documented unit enum; the kind's <Kind>Unit union
# gains the foreign units so that every documented payload still deserializes.
QUANTITY_KIND_OVERRIDES = {
    ("Procedure", "InhalantOverdose", "concentration"): (
        "Concentration",
        "documented units are [%, L/min, mL/min, mL/s] (a percentage and three flow rates); "
        "the field name and its default unit '%' say it is a concentration",
    ),
    ("Procedure", "InhalantOverdose", "oxygenFlowRate"): (
        "FlowRate",
        "documented units are [%, L/min, mL/min, mL/s]; the field name and its default unit "
        "'L/min' say it is a flow rate",
    ),
    ("Manipulation", "AuditoryStimulation", "amplitude"): (
        "SoundLevel",
        "documented units are [dB, dB SPL, Pa]: two decibel scales plus sound pressure in Pa; "
        "default 'dB' makes it a sound level",
    ),
    ("Manipulation", "TranscranialMagneticStimulation", "amplitude"): (
        "MagneticField",
        "documented units are [% MSO, T, mT, µT]: percent of maximum stimulator output or a "
        "flux density; the physical dimension is the magnetic field",
    ),
}

# --------------------------------------------------------------------------------------
# Array items. The API schema pages never give item types. Default: array of string (the
# checkbox/select lists are lists of labels; the data model pages call the consumable
# lists "array of strings"). Exceptions, with their source, below.
# --------------------------------------------------------------------------------------

TABLE_ROW_SCHEMA = {"type": "object", "additionalProperties": True}

# (group, type, field) -> (items schema, extra array keywords, reason).
# Item facts not on the API schema pages come from the data model pages
# (datamodel/schemas/procedure.md, procedurelog.md), which list the choices of each
# multi-select ("No duplicate selections" -> uniqueItems) and the item kinds of log arrays.
_DM_PROC = "data model page for Procedure types"
_DM_PLOG = "data model page for Procedure log types"
_CONFIRM_BASE = ["Absence of heartbeat", "Absence of breathing", "Absence of reflexes",
                 "Fixed dilated pupils", "Loss of corneal reflex"]


def _choices(values: list[str]) -> dict:
    return {"type": "string", "enum": values}


ARRAY_ITEM_DECISIONS = {
    ("Procedure", "Anesthesia", "monitoringMethod"): (
        _choices(["Blood pressure", "EEG", "Heart rate", "Pulse oximetry", "Respiratory rate",
                  "Toe pinch reflex", "None", "Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("Procedure", "Anesthesia", "supportiveCare"): (
        _choices(["Eye lubricant", "Fluid therapy", "Heating pad", "Oxygen supplementation",
                  "None", "Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("Procedure", "HeadFixation", "fixationMethod"): (
        _choices(["Ear bars", "Nose clamp", "Tooth bar", "Headpost clamp", "Custom holder",
                  "Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("Procedure", "CervicalDislocation", "confirmationOfDeath"): (
        _choices(_CONFIRM_BASE + ["Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("Procedure", "Co2ChamberEuthanasia", "confirmationOfDeath"): (
        _choices(_CONFIRM_BASE + ["Continued CO₂ exposure", "Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("Procedure", "BarbiturateInjection", "confirmationOfDeath"): (
        _choices(_CONFIRM_BASE + ["Additional dose administered", "Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("Procedure", "InhalantOverdose", "confirmationOfDeath"): (
        _choices(_CONFIRM_BASE + ["Continued anesthetic exposure", "Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("Procedure", "AuditoryStimulation", "stimulusTypes"): (
        _choices(["Tone", "Click", "White noise", "Pink noise", "Frequency sweep",
                  "Amplitude modulated", "Pulse train", "Chirp", "Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("Procedure", "BehavioralTracking", "trackedFeatures"): (
        _choices(["Full body", "Head position", "Head direction", "Limbs", "Paws", "Tail",
                  "Eyes", "Whiskers", "Markers", "Rigid body", "Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("Procedure", "TactileStimulation", "stimulusTypes"): (
        _choices(["Whisker poke", "Whisker deflection", "Air puff", "Brush", "Vibration",
                  "Pressure pad", "Cotton swab", "Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("Procedure", "VisualStimulation", "stimulusTypes"): (
        _choices(["Gratings", "Natural images", "LED flashes", "Checkerboard",
                  "Full-field flashes", "Moving bars", "Flicker", "Other"]),
        {"uniqueItems": True}, f"choices and no-duplicates rule from the {_DM_PROC}"),
    ("ProcedureLog", "Impedances", "impedances"): (
        {"type": "number", "minimum": 0}, {},
        f"items are non-negative numbers per the {_DM_PLOG} (the procedure log model page "
        "also shows readings as numbers)"),
    ("ProcedureLog", "Impedances", "phases"): (
        {"type": "number", "minimum": 0}, {},
        f"items are non-negative numbers (phase angles) per the {_DM_PLOG}"),
    ("ProcedureLog", "Impedances", "channels"): (
        {"type": "integer", "minimum": 0}, {},
        f"items are non-negative integers (channel identifiers) per the {_DM_PLOG}"),
}
# Fields with format="table" hold rows (objects); the data acquisition module example shows
# rows such as {"channels": [0, 2, 4], "label": "anterior"}. Applied to every table field.
TABLE_REASON = ("format 'table': each item is a row object (the data model pages describe "
                "arrays of objects; the data acquisition model page shows rows such as "
                "{\"channels\": [0, 2, 4], \"label\": \"anterior\"}); the row keys are not "
                "specified, so rows are open objects")

# --------------------------------------------------------------------------------------
# Corrections of documented per-type examples that contradict their own schema table.
# (group, type) -> (corrected example, reason). details_components() verifies that the
# documented example still has the stated problem (so stale corrections are noticed) via
# tools/spec/details_check.py, which validates every corrected example.
# --------------------------------------------------------------------------------------

EXAMPLE_CORRECTIONS: dict[tuple[str, str], tuple[object, str]] = {
    ("ProcedureLog", "Impedances"): (
        {"impedances": [0]},
        "documented example has \"impedances\": [] but the field table says minItems=1; "
        "one reading (0, the docs' placeholder number; items are non-negative numbers) was added",
    ),
}

# Real JSON Schema / OpenAPI string formats; every other documented `format` is a UI
# widget hint and goes to x-brainstem-widget.
REAL_FORMATS = {"date", "date-time", "time"}

# --------------------------------------------------------------------------------------
# Markdown parsing
# --------------------------------------------------------------------------------------

_SECTION_RE = re.compile(r"^### `([^`]+)`\s*$", re.M)
_BULLET_RE = re.compile(r"^- \*\*([^:*]+):\*\*\s*(.*)$", re.M)
_JSON_BLOCK_RE = re.compile(r"```json\n(.*?)\n```", re.S)
_QTY_RE = re.compile(r"^object\(value:number, unit:enum\[(.*)\]\)$")


def _schemas_dir(docs_dir: str) -> str:
    for cand in (os.path.join(docs_dir, "schemas"), docs_dir,
                 os.path.join(docs_dir, "api", "schemas")):
        if os.path.isfile(os.path.join(cand, "procedure.md")):
            return cand
    raise FileNotFoundError(f"no schemas/*.md under {docs_dir!r}")


def _backticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]*)`", cell)


def _split_row(line: str) -> list[str]:
    cells = line.strip().strip("|").split("|")
    return [c.strip() for c in cells]


def _parse_constraints(text: str) -> dict:
    """Parse 'format="x"; enum=[...]; minimum=0; default={...}' into a dict."""
    text = text.strip()
    out: dict = {}
    if text in ("", "—", "-"):
        return out
    dec = json.JSONDecoder()
    i = 0
    while i < len(text):
        m = re.compile(r"\s*([A-Za-z]+)=").match(text, i)
        if not m:
            raise ValueError(f"cannot parse constraints {text!r} at {i}")
        key = m.group(1)
        val, end = dec.raw_decode(text, m.end())
        if key in out:
            raise ValueError(f"duplicate constraint {key} in {text!r}")
        out[key] = val
        rest = text[end:]
        m2 = re.match(r"\s*;\s*", rest)
        if m2:
            i = end + m2.end()
        elif rest.strip() == "":
            break
        else:
            raise ValueError(f"unexpected text after {key} in {text!r}")
    return out


def _parse_table(lines: list[str]) -> list[dict]:
    rows = []
    for line in lines:
        cells = _split_row(line)
        if len(cells) != 4:
            raise ValueError(f"bad field row: {line!r}")
        name = _backticked(cells[0])[0]
        expected = _backticked(cells[1])[0]
        required = {"yes": True, "no": False}[cells[2]]
        rows.append({
            "name": name,
            "expected": expected,
            "required": required,
            "constraints": _parse_constraints(cells[3]),
        })
    return rows


def parse_group(path: str) -> dict:
    """Parse one schemas/<group>.md page into quick map + per-type sections."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    # Quick type map
    qm_start = text.index("## Quick type map")
    qm_end = text.index("\n## ", qm_start + 5)
    quick = {}
    for line in text[qm_start:qm_end].splitlines():
        if not line.startswith("| `"):
            continue
        cells = _split_row(line)
        name = _backticked(cells[0])[0]
        quick[name] = {
            "version": _backticked(cells[1])[0],
            "required": _backticked(cells[2]) if cells[2] != "none" else [],
            "shape": _backticked(cells[3])[0],
        }
    # Page-level examples ("payload fragment", "Request pattern"): selector + payload.
    ref = text.index("## Schema reference")
    page_examples = [json.loads(b.group(1)) for b in _JSON_BLOCK_RE.finditer(text[qm_end:ref])]
    # Sections
    body = text[ref:]
    marks = list(_SECTION_RE.finditer(body))
    sections = {}
    for k, m in enumerate(marks):
        name = m.group(1)
        chunk = body[m.end(): marks[k + 1].start() if k + 1 < len(marks) else len(body)]
        bullets = {b.group(1).strip(): b.group(2).strip() for b in _BULLET_RE.finditer(chunk)}
        req_cell = bullets["Required fields"]
        ex = None
        if "Example payload for this type:" in chunk:
            after = chunk[chunk.index("Example payload for this type:"):]
            jm = _JSON_BLOCK_RE.search(after)
            ex = json.loads(jm.group(1))
        table_lines = [ln for ln in chunk.splitlines() if ln.startswith("| `")]
        if name in sections:
            raise ValueError(f"{path}: duplicate section {name}")
        sections[name] = {
            "title": bullets["Schema title"],
            "version": _backticked(bullets["Schema version"])[0],
            "source": _backticked(bullets.get("Source", ""))[0] if bullets.get("Source") else None,
            "shape": _backticked(bullets["Schema shape"])[0],
            "required": _backticked(req_cell) if req_cell != "none" else [],
            "example": ex,
            "fields": _parse_table(table_lines),
        }
    return {"quick": quick, "sections": sections, "page_examples": page_examples}


# --------------------------------------------------------------------------------------
# Schema building
# --------------------------------------------------------------------------------------

def pascal(name: str) -> str:
    """Type value -> component-name fragment: drop underscores, keep the docs' casing
    (CCF_XYZ_Absolute -> CCFXYZAbsolute, Stereotaxic_BregmaAbsolute -> StereotaxicBregmaAbsolute)."""
    return "".join(p[:1].upper() + p[1:] for p in name.split("_") if p)


def component_name(group: str, type_name: str) -> str:
    return f"{group}{pascal(type_name)}Details"


def _kind_of_units(units: list[str]) -> set[str]:
    kinds = set()
    for u in units:
        ks = [k for k, us in UNIT_KINDS.items() if u in us]
        if len(ks) != 1:
            kinds.add(f"?{u}")
        else:
            kinds.add(ks[0])
    return kinds


class _Ctx:
    def __init__(self):
        self.kind_units: dict[str, list[str]] = {}
        self.kind_fields: dict[str, int] = {}
        self.conflicts: list[dict] = []
        self.field_count = 0
        self.used_overrides: set = set()
        self.used_array_decisions: set = set()


def _field_schema(group: str, type_name: str, row: dict, ctx: _Ctx) -> dict:
    exp = row["expected"]
    cons = dict(row["constraints"])
    fmt = cons.pop("format", None)
    notes = []
    qm = _QTY_RE.match(exp)
    if qm:
        units = [u.strip() for u in qm.group(1).split(",")]
        if fmt != "numberUnit":
            raise ValueError(f"{group}/{type_name}.{row['name']}: quantity without numberUnit")
        key = (group, type_name, row["name"])
        kinds = _kind_of_units(units)
        if key in QUANTITY_KIND_OVERRIDES:
            kind, reason = QUANTITY_KIND_OVERRIDES[key]
            ctx.used_overrides.add(key)
            notes.append(f"Mixed unit list: {reason}; quantity kind set to {kind}.")
        elif len(kinds) == 1 and not next(iter(kinds)).startswith("?"):
            kind = next(iter(kinds))
        else:
            raise ValueError(f"{group}/{type_name}.{row['name']}: units {units} span {kinds}; "
                             "add a QUANTITY_KIND_OVERRIDES entry")
        known = ctx.kind_units.setdefault(kind, [])
        for u in units:
            if u not in known:
                known.append(u)
        ctx.kind_fields[kind] = ctx.kind_fields.get(kind, 0) + 1
        sch = {
            "type": "object",
            "x-brainstem-quantity": kind,
            "required": ["value", "unit"],
            "properties": {
                "value": {"type": "number"},
                "unit": {"type": "string", "enum": units},
            },
        }
        if "default" in cons:
            d = cons.pop("default")
            # The documented default names only the unit ({"unit": "min"}), which is not a
            # valid instance of the quantity (value is required): keep it as a hint instead.
            if isinstance(d, dict) and set(d) == {"unit"}:
                sch["x-brainstem-default-unit"] = d["unit"]
            else:
                sch["default"] = d
    elif exp in ("string", "integer", "number", "boolean"):
        sch = {"type": exp}
        if fmt is not None:
            if fmt in REAL_FORMATS:
                sch["format"] = fmt
            else:
                sch["x-brainstem-widget"] = fmt
    elif exp == "array":
        key = (group, type_name, row["name"])
        extra = {}
        if key in ARRAY_ITEM_DECISIONS:
            items, extra, reason = ARRAY_ITEM_DECISIONS[key]
            ctx.used_array_decisions.add(key)
            notes.append(f"Items: {reason}.")
        elif fmt == "table":
            items = TABLE_ROW_SCHEMA
            notes.append(f"Items: {TABLE_REASON}.")
        else:
            items = {"type": "string"}
        sch = {"type": "array", "items": copy.deepcopy(items)}
        sch.update(copy.deepcopy(extra))
        if fmt is not None:
            sch["x-brainstem-widget"] = fmt
    else:
        raise ValueError(f"{group}/{type_name}.{row['name']}: unknown expected value {exp!r}")
    for k in ("enum", "minimum", "maximum", "minItems", "maxItems", "pattern",
              "minLength", "maxLength", "default"):
        if k in cons:
            sch[k] = cons.pop(k)
    if cons:
        raise ValueError(f"{group}/{type_name}.{row['name']}: unhandled constraints {cons}")
    if notes:
        sch["x-brainstem-note"] = " ".join(notes)
    return sch


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def number_positions_to_float(schema: dict, value):
    """Return `value` with every integer literal that sits where the schema says
    `number` written as a float (0 -> 0.0). Same JSON number; but a typed round trip
    through f64 re-serializes 0.0, so fixtures and examples are kept in that spelling."""
    t = schema.get("type")
    if t == "number" and _is_int(value):
        return float(value)
    if t == "object" and isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: number_positions_to_float(props[k], v) if k in props else v
                for k, v in value.items()}
    if t == "array" and isinstance(value, list):
        return [number_positions_to_float(schema.get("items", {}), v) for v in value]
    return value


def _type_schema(group: str, type_name: str, quick: dict, sec: dict, ctx: _Ctx) -> dict:
    notes = []
    # Cross-check quick map against the section.
    if quick["version"] != sec["version"]:
        ctx.conflicts.append({"group": group, "type": type_name, "what": "version",
                              "docs": [quick["version"], sec["version"]]})
        notes.append(f"Quick map says version {quick['version']}, section says "
                     f"{sec['version']}; the section is used.")
    if sorted(quick["required"]) != sorted(sec["required"]):
        ctx.conflicts.append({"group": group, "type": type_name, "what": "required (quick map)",
                              "docs": [quick["required"], sec["required"]]})
    table_required = [r["name"] for r in sec["fields"] if r["required"]]
    if sorted(table_required) != sorted(sec["required"]):
        ctx.conflicts.append({"group": group, "type": type_name, "what": "required (table)",
                              "docs": [table_required, sec["required"]]})
        notes.append("Field table and 'Required fields' line disagree; the union is required.")
    required = sorted(set(table_required) | set(sec["required"]),
                      key=lambda n: [r["name"] for r in sec["fields"]].index(n)
                      if n in [r["name"] for r in sec["fields"]] else 1_000)
    props = {}
    for row in sec["fields"]:
        props[row["name"]] = _field_schema(group, type_name, row, ctx)
        ctx.field_count += 1
    for r in required:
        if r not in props:
            raise ValueError(f"{group}/{type_name}: required field {r} not in table")

    example = copy.deepcopy(sec["example"])
    if (group, type_name) in EXAMPLE_CORRECTIONS:
        corrected, reason = EXAMPLE_CORRECTIONS[(group, type_name)]
        ctx.conflicts.append({"group": group, "type": type_name, "what": "example",
                              "docs": sec["example"], "fixed": corrected, "reason": reason})
        notes.append(f"Documented example corrected: {reason}.")
        example = copy.deepcopy(corrected)

    name = component_name(group, type_name)
    obj: dict = {"type": "object"}
    if required:
        obj["required"] = required
    obj["properties"] = props
    if group == "Equipment" and not props:
        obj["additionalProperties"] = True
        notes.insert(0, "The docs define no fields for this equipment type; any JSON object "
                        "is accepted (usually {}).")

    schema: dict = {}
    schema["title"] = sec["title"]
    schema["description"] = (f"Payload of `{'coordinates_details' if group == 'Coordinates' else 'details'}`"
                             f" when `{'coordinates_system' if group == 'Coordinates' else 'type'}`"
                             f" is `{type_name}` ({group}).")
    schema["x-brainstem-schema"] = f"{group}/{type_name}"
    schema["x-brainstem-schema-version"] = sec["version"]
    if sec["shape"] == "array items":
        schema["type"] = "array"
        schema["items"] = obj
        schema["description"] += " A list of rows; every row has the shape of `items`."
    elif sec["shape"] == "object":
        schema.update(obj)
    else:
        raise ValueError(f"{group}/{type_name}: unknown shape {sec['shape']}")
    schema["x-brainstem-example"] = number_positions_to_float(schema, example)
    if notes:
        schema["x-brainstem-note"] = " ".join(notes)
    return name, schema


def parse_docs(docs_dir: str) -> dict:
    sdir = _schemas_dir(docs_dir)
    return {g: parse_group(os.path.join(sdir, GROUP_FILES[g])) for g in GROUP_ORDER}


def build(docs_dir: str) -> tuple[dict, _Ctx, dict]:
    parsed = parse_docs(docs_dir)
    ctx = _Ctx()
    comps: dict = {}
    for g in GROUP_ORDER:
        p = parsed[g]
        qnames = list(p["quick"])
        snames = list(p["sections"])
        if qnames != snames:
            raise ValueError(f"{g}: quick map {qnames} vs sections {snames}")
        if qnames != GROUP_TYPES[g]:
            raise ValueError(f"{g}: docs list {qnames}, script lists {GROUP_TYPES[g]}")
        for t in qnames:
            name, sch = _type_schema(g, t, p["quick"][t], p["sections"][t], ctx)
            if name in comps:
                raise ValueError(f"component name collision: {name}")
            comps[name] = sch
        tname = f"{g}Type"
        comps[tname] = {
            "type": "string",
            "enum": list(qnames),
            "x-brainstem-details-group": g,
            "description": (f"Allowed values of `{details_groups()[g]['tag']}` for the {g} "
                            "group; each selects one details schema."),
        }
    for g, ts in INTERVAL_ENTRY_TYPES.items():
        if set(ts) - set(GROUP_TYPES[g]):
            raise ValueError(f"{g}: interval entry types not in the group: {ts}")
    stale = set(QUANTITY_KIND_OVERRIDES) - ctx.used_overrides
    stale |= set(ARRAY_ITEM_DECISIONS) - ctx.used_array_decisions
    if stale:
        raise ValueError(f"decision tables mention unknown fields: {sorted(stale)}")
    for kind in sorted(ctx.kind_units):
        # Order: the canonical order of UNIT_KINDS, then foreign units in first-seen order.
        canon = [u for u in UNIT_KINDS[kind] if u in ctx.kind_units[kind]]
        foreign = [u for u in ctx.kind_units[kind] if u not in UNIT_KINDS[kind]]
        sch = {
            "type": "string",
            "enum": canon + foreign,
            "x-brainstem-unit-kind": kind,
            "x-enum-varnames": unit_varnames(canon + foreign),
            "description": KIND_DESCRIPTIONS[kind],
        }
        if foreign:
            sch["x-brainstem-note"] = (f"{', '.join(foreign)} belong to another dimension; they are "
                                       "listed because a documented field of this kind allows them.")
        uname = f"{kind}Unit"
        if uname in comps:
            raise ValueError(f"component name collision: {uname}")
        comps[uname] = sch
    return comps, ctx, parsed


def details_components(docs_dir: str) -> dict:
    """Component name -> schema for all typed details, unit kinds and group type enums."""
    comps, _ctx, _parsed = build(docs_dir)
    return comps


def details_groups() -> dict:
    """Group name -> how the group is attached to models (no docs needed)."""
    out = {}
    for g in GROUP_ORDER:
        coords = g == "Coordinates"
        out[g] = {
            "types": list(GROUP_TYPES[g]),
            "models": list(GROUP_MODELS[g]),
            "tag": "coordinates_system" if coords else "type",
            "content": "coordinates_details" if coords else "details",
            # Extra (informational): where the payload lives in the record. For the log
            # models the record has `type`, and each element of `entries` has `details`.
            "content_path": "entries[].details" if g in ("ProcedureLog", "SubjectLog")
            else ("coordinates_details" if coords else "details"),
            "shape": "array" if g == "Manipulation" else "object",
            "type_schema": f"{g}Type",
        }
        if g in INTERVAL_ENTRY_TYPES:
            out[g]["interval_entry_types"] = list(INTERVAL_ENTRY_TYPES[g])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("docs_dir", help="BrainSTEM docs 'api' directory (containing schemas/)")
    ap.add_argument("--out", help="write components JSON here (default: stdout)")
    args = ap.parse_args(argv)
    comps, ctx, _ = build(args.docs_dir)
    text = json.dumps(comps, indent=2, ensure_ascii=False) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    groups = details_groups()
    ntypes = sum(len(v["types"]) for v in groups.values())
    print(f"{len(groups)} groups, {ntypes} types, {ctx.field_count} fields, "
          f"{len(ctx.kind_units)} quantity kinds, {len(comps)} components", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
