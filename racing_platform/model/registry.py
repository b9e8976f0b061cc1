"""Model versions: a stage-1 CatBoost file and the blend's weights, named by the hash of both, listed in
table model_versions with the cutoff they were trained before."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from catboost import CatBoost

from racing_platform.model.blend import BlendWeights
from racing_platform.paths import data_dir
from racing_platform.warehouse.resource import Warehouse

VOLATILE_METADATA = ("model_guid", "train_finish_time")


def model_dir() -> Path:
    return data_dir() / "models"


@dataclass(frozen=True)
class ModelVersion:
    version: str
    cutoff: date
    trained_at: datetime
    params: dict
    training_rows: int
    training_races: int
    metrics: dict
    path: str

    def load(self) -> CatBoost:
        model = CatBoost()
        model.load_model(self.path)
        return model

    @property
    def blend(self) -> BlendWeights:
        return BlendWeights(**self.params["blend"])


def save_version(
    warehouse: Warehouse,
    model: CatBoost,
    *,
    cutoff: date,
    params: dict,
    blend: BlendWeights,
    training_rows: int,
    training_races: int,
    metrics: dict,
) -> ModelVersion:
    """Store the model file under its content hash and list it; the same model and blend saved twice is
    one version."""
    blob = model_bytes(model)
    params = {**params, "blend": blend.as_dict()}
    version = content_hash(blob + json.dumps(params["blend"], sort_keys=True).encode())
    path = model_dir() / f"{content_hash(blob)}.cbm"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(blob)
    row = pd.DataFrame(
        {
            "version": [version],
            "cutoff": [cutoff],
            "trained_at": [pd.Timestamp.now(tz="UTC")],
            "params": [json.dumps(params, sort_keys=True)],
            "training_rows": [training_rows],
            "training_races": [training_races],
            "metrics": [json.dumps(metrics, sort_keys=True)],
            "path": [str(path)],
        }
    )
    warehouse.replace_slices({"model_versions": row}, row[["version"]])
    return get_version(warehouse, version)


def model_bytes(model: CatBoost) -> bytes:
    """The model file, without what CatBoost stamps on every fit (a random guid, the finish time; both
    dropped from `model`), so the same rows and params always give the same bytes and version."""
    metadata = model.get_metadata()
    for key in VOLATILE_METADATA:
        if key in metadata:
            del metadata[key]
    with tempfile.NamedTemporaryFile(suffix=".cbm") as tmp:
        model.save_model(tmp.name)
        return Path(tmp.name).read_bytes()


def content_hash(blob: bytes) -> str:
    """The start of a sha256: a model file's name, and (over the file and the blend) a version's."""
    return hashlib.sha256(blob).hexdigest()[:16]


# Versions made before the blend (one CatBoost classifier over other features) stay listed in the table
# but cannot price with this code: they are never picked.
PRICEABLE = "json_extract(params, '$.blend') IS NOT NULL"


def list_versions(warehouse: Warehouse) -> list[ModelVersion]:
    rows = warehouse.query(f"SELECT * FROM model_versions WHERE {PRICEABLE} ORDER BY cutoff, trained_at")
    return [_to_version(row) for row in rows.itertuples(index=False)]


def get_version(warehouse: Warehouse, version: str) -> ModelVersion:
    rows = warehouse.query("SELECT * FROM model_versions WHERE version = ?", [version])
    if rows.empty:
        raise LookupError(f"no model version {version!r}")
    return _to_version(next(rows.itertuples(index=False)))


def version_for(warehouse: Warehouse, day: date) -> ModelVersion | None:
    """The newest model trained only on races before `day` (cutoff <= day): no leakage into its prices."""
    rows = warehouse.query(
        f"SELECT * FROM model_versions WHERE cutoff <= ? AND {PRICEABLE} "
        "ORDER BY cutoff DESC, trained_at DESC LIMIT 1",
        [day],
    )
    return _to_version(next(rows.itertuples(index=False))) if len(rows) else None


def _to_version(row) -> ModelVersion:
    return ModelVersion(
        version=row.version,
        cutoff=pd.Timestamp(row.cutoff).date(),
        trained_at=pd.Timestamp(row.trained_at).to_pydatetime(),
        params=json.loads(row.params),
        training_rows=int(row.training_rows),
        training_races=int(row.training_races),
        metrics=json.loads(row.metrics),
        path=row.path,
    )
