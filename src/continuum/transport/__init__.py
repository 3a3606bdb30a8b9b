"""ECMO retrieval and transport missions (docs/clinical/reference.md §8.1): a primary mission
(the team cannulates at the referring hospital) or a secondary one (the patient already on
ECMO), its milestones and intervals, the pre-departure checklist with computed oxygen and
battery items, events in transit and the handover."""
