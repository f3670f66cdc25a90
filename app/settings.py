"""The one place that reads the environment.

Every setting the product understands is listed here with its default; nothing
else in the code reads ``os.environ``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("app.settings")

# Development only: what a missing secret becomes (never in production).
DEV_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
DEV_WECHAT_TOKEN = "sandbox-token"
MIN_SECRET_KEY_LENGTH = 32


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from exc


def _bool(env: dict[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    # production (the default) or development; see "Safe by default" in the README.
    app_env: str
    database_url: str
    secret_key: str
    wechat_appid: str
    wechat_secret: str
    wechat_api_base: str
    wechat_token: str
    wechat_encoding_aes_key: str
    wecom_corp_id: str
    wecom_secret: str
    wecom_agent_id: str
    wecom_api_base: str
    redis_url: str
    cases_config: str
    photo_dir: str
    scheduler_enabled: bool
    escalation_interval_seconds: int
    clock_offset_seconds: int
    outbox_interval_seconds: int = 5
    outbox_lease_seconds: int = 60
    token_max_age_seconds: int = 7 * 24 * 3600
    public_base_url: str = ""
    # The PC console logs a browser out after this many minutes without a request.
    console_idle_minutes: int = 30
    photo_storage: str = "local"  # local | s3
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str = ""
    s3_addressing_style: str = ""  # path | virtual; default path when S3_ENDPOINT_URL is set
    aws_region: str = ""
    aws_access_key_id: str = ""
    aws_secret_access_key: str = ""
    aws_session_token: str = ""
    # /metrics answers only ``Authorization: Bearer <metrics_token>``; unset: 404.
    metrics_token: str = ""
    # Where every process of the host writes its figures (prometheus-client's
    # multiprocess mode); unset: each process counts in memory (development).
    prometheus_multiproc_dir: str = ""
    log_format: str = "text"  # text | json
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        instance = ROOT / "instance"
        return cls(
            app_env=_choice(env, "APP_ENV", ("", "production", "development")) or "production",
            database_url=env.get("DATABASE_URL") or f"sqlite:///{instance / 'cases.db'}",
            secret_key=env.get("SECRET_KEY", ""),
            wechat_appid=env.get("WECHAT_APPID") or "wx-sandbox-appid",
            wechat_secret=env.get("WECHAT_SECRET") or "sandbox-secret",
            wechat_api_base=_with_slash(env.get("WECHAT_API_BASE") or "https://api.weixin.qq.com/"),
            wechat_token=env.get("WECHAT_TOKEN", ""),
            wechat_encoding_aes_key=env.get("WECHAT_ENCODING_AES_KEY", ""),
            wecom_corp_id=env.get("WECOM_CORP_ID", ""),
            wecom_secret=env.get("WECOM_SECRET", ""),
            wecom_agent_id=env.get("WECOM_AGENT_ID", ""),
            wecom_api_base=_with_slash(env.get("WECOM_API_BASE") or "https://qyapi.weixin.qq.com/"),
            redis_url=env.get("REDIS_URL", ""),
            cases_config=env.get("CASES_CONFIG") or str(ROOT / "config" / "county.yaml"),
            photo_dir=env.get("PHOTO_DIR") or str(instance / "photos"),
            scheduler_enabled=_bool(env, "SCHEDULER_ENABLED"),
            escalation_interval_seconds=max(1, _int(env, "ESCALATION_INTERVAL_SECONDS", 60)),
            clock_offset_seconds=_int(env, "CLOCK_OFFSET_SECONDS", 0),
            outbox_interval_seconds=max(1, _int(env, "OUTBOX_INTERVAL_SECONDS", 5)),
            outbox_lease_seconds=max(1, _int(env, "OUTBOX_LEASE_SECONDS", 60)),
            public_base_url=env.get("PUBLIC_BASE_URL", "").rstrip("/"),
            console_idle_minutes=max(1, _int(env, "CONSOLE_IDLE_MINUTES", 30)),
            photo_storage=_photo_storage(env),
            s3_bucket=env.get("S3_BUCKET", "").strip(),
            s3_prefix=env.get("S3_PREFIX", "").strip(),
            s3_endpoint_url=env.get("S3_ENDPOINT_URL", "").strip(),
            s3_addressing_style=_choice(env, "S3_ADDRESSING_STYLE", ("", "path", "virtual")),
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION", ""),
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", ""),
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", ""),
            aws_session_token=env.get("AWS_SESSION_TOKEN", ""),
            metrics_token=env.get("METRICS_TOKEN", "").strip(),
            prometheus_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR", "").strip(),
            log_format=_choice(env, "LOG_FORMAT", ("", "text", "json")) or "text",
        )

    @property
    def production(self) -> bool:
        return self.app_env != "development"

    def but(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def weak_secrets(self) -> list[str]:
        """What production refuses, naming each variable (empty: all set)."""
        weak = []
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            weak.append(
                f"SECRET_KEY must be set to at least {MIN_SECRET_KEY_LENGTH} characters, the same in every "
                f"process (SECRET_KEY 至少 {MIN_SECRET_KEY_LENGTH} 个字符，所有进程相同)"
            )
        if not self.wechat_token:
            weak.append(
                "WECHAT_TOKEN must be set to the message-push token (WECHAT_TOKEN 未设置：消息推送 Token)"
            )
        return weak

    def safe(self) -> Settings:
        """Settings a process may start with. Production refuses weak secrets
        (SystemExit naming the variable); development fills in fixed
        defaults and says so, so every process of one machine agrees."""
        weak = self.weak_secrets()
        if not weak:
            return self
        if self.production:
            raise SystemExit("APP_ENV=production refuses to start: " + "; ".join(weak))
        for problem in weak:
            log.warning("APP_ENV=development, using a development default: %s", problem)
        return self.but(
            secret_key=self.secret_key or DEV_SECRET_KEY, wechat_token=self.wechat_token or DEV_WECHAT_TOKEN
        )


def _choice(env: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if raw not in allowed:
        shown = "|".join(a for a in allowed if a)
        raise SystemExit(f"{name} must be one of {shown}, got {raw!r} ({name} 只能取 {shown})")
    return raw


def _photo_storage(env: dict[str, str]) -> str:
    storage = _choice(env, "PHOTO_STORAGE", ("", "local", "s3")) or "local"
    if storage == "s3" and not env.get("S3_BUCKET", "").strip():
        raise SystemExit("PHOTO_STORAGE=s3 needs S3_BUCKET (照片存到 S3 时必须设置 S3_BUCKET 存储桶名)")
    return storage


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
