from __future__ import annotations

from pydantic import BaseModel, Field

from app.core.language import Language


class LabelsRead(BaseModel):
    lang: Language = Field(description="The language of the labels")
    vocabularies: dict[str, dict[str, str]] = Field(
        description="For each vocabulary (report_status, job_status, role, decline_reason, "
        "light, event_type, …), each code the API uses and what to call it",
        examples=[
            {
                "report_status": {"submitted": "待受理", "accepted": "已立案"},
                "decline_reason": {"wrong_area": "属地不符"},
            }
        ],
    )
