"""Learning from review: classifiers of category and urgency trained on what
staff confirmed or corrected, with calibrated confidences.

`classifiers` holds the data helpers, the retrain policy and the saved models
(it imports no scikit-learn); `pipelines` the scikit-learn pipelines and the
emergency threshold; `features` what the pipelines read in a text.
"""
