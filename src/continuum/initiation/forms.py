"""Turn the record page's HTML forms into the API's shapes (nested keys, checkboxes, rows)."""

from __future__ import annotations

from typing import Any

from continuum.initiation.schemas import PhysiologyIn

MULTI = {"save.diagnoses"}
CANNULA_ROWS = 3
CANNULA_FIELDS = ("role", "site", "side", "catalogue_id", "french")
WARNING_ROWS = 12


def items(form: Any) -> list[tuple[str, str]]:
    return [(k, str(v).strip()) for k, v in form.multi_items() if k != "csrf_token"]


def candidacy(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"checked": [], "scores": {}, "eolia": {}, "ecpr": {}, "pre_ecls": {}}
    for key, value in items(form):
        if key == "checked":
            data["checked"].append(value)
        elif key in ("note", "score_reason"):
            data[key] = value or None
        elif "." in key and value != "":
            group, name = key.split(".", 1)
            target = (
                data["scores"].setdefault(group, {})
                if group in ("murray", "resp", "preserve", "save")
                else data.setdefault(group, {})
            )
            if key in MULTI:
                target.setdefault(name, []).append(value)
            else:
                target[name] = value
    return data


def modality(form: Any) -> dict[str, Any]:
    pairs = dict(items(form))
    flags = {name for name in PhysiologyIn.model_fields if pairs.get(f"phys.{name}") == "on"}
    physiology: dict[str, Any] = {name: True for name in flags}
    if pairs.get("phys.current_mode"):
        physiology["current_mode"] = pairs["phys.current_mode"]
    return {
        "physiology": physiology,
        "chosen_mode": pairs.get("chosen_mode") or None,
        "choice_reason": pairs.get("choice_reason") or None,
    }


def plan(form: Any) -> dict[str, Any]:
    pairs = dict(items(form))
    # Every field of the form is named, a blank one as None: the form is the whole plan,
    # so clearing a box clears the value (the API changes only the fields it names).
    data: dict[str, Any] = {
        k: v or None
        for k, v in pairs.items()
        if not _is_cannula_key(k) and not k.startswith("warning.")
    }
    data["warning_reasons"] = {
        pairs[f"warning.{i}.text"]: pairs.get(f"warning.{i}.reason", "")
        for i in range(WARNING_ROWS)
        if pairs.get(f"warning.{i}.text") and pairs.get(f"warning.{i}.reason")
    }
    rows = []
    for i in range(CANNULA_ROWS):
        row = {f: pairs.get(f"c{i}.{f}", "") for f in CANNULA_FIELDS}
        if row["site"]:
            rows.append({k: v for k, v in row.items() if v != ""})
    data["cannulas"] = rows
    return data


def _is_cannula_key(key: str) -> bool:
    return len(key) > 2 and key[0] == "c" and key[1].isdigit() and key[2] == "."
