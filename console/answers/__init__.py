"""FAQ answers reworded by staff without retraining: proposed in the console, approved by an
administrator, served by the Rasa server within seconds (`routes`, over `queries`; the versions
are clinic/answers.py's)."""
