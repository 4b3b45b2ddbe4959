"""Response generation that fills the clinic profile into the domain's responses.

Responses in `domain.yml` say `{clinic_phone}`, `{hours_summary}` and so on; this generator
supplies those values from the clinic profile, inside the Rasa server itself, so every
response (the crisis reply included) is complete even when the action server is down.
Configured in `endpoints.yml` as `nlg: type: components.profile_nlg.ProfileNLG`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from clinic.profile import ClinicProfile, load_profile


class ProfileNLG(TemplatedNaturalLanguageGenerator):
    """Templated responses with the clinic profile's values available as placeholders."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        domain: Optional[Domain] = None,
        profile: Optional[ClinicProfile] = None,
    ) -> None:
        domain = domain or Domain.empty()
        super().__init__(domain.responses)
        self.profile_values = (profile or load_profile()).template_values()

    def _response_variables(
        self, filled_slots: Optional[Dict[Text, Any]], kwargs: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        slots_and_kwargs = super()._response_variables(filled_slots, kwargs)
        return {**self.profile_values, **slots_and_kwargs}
