"""Privacy masks as the API takes and shows them."""

from pydantic import BaseModel, ConfigDict, Field

from sharpeyes.core.masks import MAX_POINTS, MAX_POLYGONS, MaskPolygon


class MaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: list[list[float]] = Field(
        min_length=3,
        max_length=MAX_POINTS,
        description="Corners [x, y] in order, as fractions of the picture's width and height (0..1, top left 0, 0).",
    )
    name: str = Field("", max_length=100, description="What it hides, e.g. 住户窗户 (a home's window).")


class MasksIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"polygons": [{"name": "住户窗户", "points": [[0.1, 0.1], [0.3, 0.1], [0.3, 0.4], [0.1, 0.4]]}]}
            ]
        },
    )

    polygons: list[MaskIn] = Field(max_length=MAX_POLYGONS, description="All of the camera's masks (none: removed).")


class MaskOut(BaseModel):
    name: str
    points: list[list[float]]

    @classmethod
    def of(cls, mask: MaskPolygon) -> "MaskOut":
        return cls(name=mask.name, points=[list(point) for point in mask.points])
