"""What every part may use: time as the log keeps it (clock), rejections as problem+json
(errors), the closed sets of words and ids (names), every EXITNOW_* setting (settings), work
side by side (tasks), HMAC signatures (signing), sealed secrets (sealed), QR codes (qr) and
connections to outside services (http).

May import: nothing of Exit Now. Everything above may import it.
"""
