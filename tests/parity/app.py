"""The Chanx 2.13 app that the parity tests hold the Rust server to.

One WebSocket channel, ``/ws/parity/{room}``, served by FastAPI through fast-channels with the
in-memory channel layer. It is deliberately small but touches every part of Chanx's protocol a
client can observe:

* authentication (``?token=`` in the query or an ``X-Token`` header): an ``authentication`` frame,
  then close ``4401`` (no token) or ``4403`` (unknown token); success sends status 200;
* a server push on connect (``welcome``, declared through ``emits``);
* actions with a reply (``ping``, ``echo``, ``register``), without one (``announce``), one that
  sends several frames itself (``countdown``), one that broadcasts to the room (``say``) and one
  whose handler raises (``explode``);
* a channel-layer event (``announcement``): ``announce`` broadcasts it to the room's group and every
  member's ``@event_handler`` forwards it to its client;
* constrained fields: string lengths, a pattern, integer and float ranges, an enum, a literal, a
  nested object, a bounded list, an optional field and a required-but-nullable one.

Run it with ``uvicorn app:app`` from this folder (``tests/parity/``).
"""

from collections.abc import MutableMapping
from enum import Enum
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import FastAPI
from pydantic import BaseModel, Field

from chanx.core.authenticator import BaseAuthenticator, Credential
from chanx.core.decorators import channel, event_handler, ws_handler
from chanx.fast_channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import (
    AuthenticationMessage,
    AuthenticationPayload,
    PongMessage,
)
from chanx.utils.groups import safe_group_name
from fast_channels.layers import InMemoryChannelLayer, register_channel_layer

# The tokens the authenticator knows, and whose they are.
TOKENS = {"alice-token": "alice", "bob-token": "bob"}

register_channel_layer("parity", InMemoryChannelLayer())


# --- payloads -----------------------------------------------------------------------------------


class Role(str, Enum):
    """What a registered user may do."""

    ADMIN = "admin"
    MEMBER = "member"
    GUEST = "guest"


class Address(BaseModel):
    """Where a user lives (a nested object)."""

    city: str = Field(min_length=1, max_length=40)
    zip: str = Field(pattern=r"^[0-9]{5}$")


class Profile(BaseModel):
    """A user profile: every kind of constraint the parity test sends wrong values for."""

    username: str = Field(min_length=3, max_length=16, pattern=r"^[a-z][a-z0-9_]*$")
    age: int = Field(ge=13, le=130)
    score: float = Field(default=0.0, ge=0, lt=100)
    role: Role = Role.MEMBER
    plan: Literal["free", "pro"] = "free"
    address: Address
    tags: list[str] = Field(default_factory=list, max_length=3)
    nickname: str | None = Field(default=None, max_length=10)
    bio: str | None  # required, but may be null


class EchoPayload(BaseModel):
    """Text to send back."""

    text: str = Field(min_length=1, max_length=20)
    times: int = Field(default=1, ge=1, le=3)


class CountdownPayload(BaseModel):
    """Where a countdown starts."""

    start: int = Field(ge=1, le=3)


class TextPayload(BaseModel):
    """A line of text for the room."""

    text: str = Field(min_length=1, max_length=200)


class SaidPayload(BaseModel):
    """A line said in a room, as every member receives it."""

    room: str
    sender: str
    text: str


class WelcomePayload(BaseModel):
    """Who the server greets, in which room."""

    user: str
    room: str


class TickPayload(BaseModel):
    """One step of a countdown."""

    n: int


# --- messages -----------------------------------------------------------------------------------


class EchoMessage(BaseMessage):
    """Asks for the text back."""

    action: Literal["echo"] = "echo"
    payload: EchoPayload


class EchoReply(BaseMessage):
    """The text, repeated."""

    action: Literal["echo_reply"] = "echo_reply"
    payload: EchoPayload


class RegisterMessage(BaseMessage):
    """Registers a profile."""

    action: Literal["register"] = "register"
    payload: Profile


class Registered(BaseMessage):
    """The profile as stored, defaults filled in."""

    action: Literal["registered"] = "registered"
    payload: Profile


class CountdownMessage(BaseMessage):
    """Asks for a countdown."""

    action: Literal["countdown"] = "countdown"
    payload: CountdownPayload


class Tick(BaseMessage):
    """One countdown step."""

    action: Literal["tick"] = "tick"
    payload: TickPayload


class SayMessage(BaseMessage):
    """Says something to the whole room."""

    action: Literal["say"] = "say"
    payload: TextPayload


class Said(BaseMessage):
    """A line said in the room (to every member)."""

    action: Literal["said"] = "said"
    payload: SaidPayload


class AnnounceMessage(BaseMessage):
    """Asks the server to announce something to the room through the channel layer."""

    action: Literal["announce"] = "announce"
    payload: TextPayload


class Announcement(BaseMessage):
    """An announcement, delivered as a channel event."""

    action: Literal["announcement"] = "announcement"
    payload: TextPayload


class ExplodeMessage(BaseMessage):
    """Makes the handler fail."""

    action: Literal["explode"] = "explode"
    payload: None = None


class Welcome(BaseMessage):
    """Pushed once a connection is authenticated."""

    action: Literal["welcome"] = "welcome"
    payload: WelcomePayload


# --- authentication -----------------------------------------------------------------------------


def _header(scope: MutableMapping[str, Any], name: bytes) -> str | None:
    """The value of header ``name`` (lower case) in an ASGI scope, if present."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class TokenAuthenticator(BaseAuthenticator):
    """Accepts a known token from the query string or the ``X-Token`` header.

    Like Chanx's Django authenticator, it reports the outcome in an ``authentication`` frame.
    """

    credentials = (
        Credential("token", "query", "Access token"),
        Credential("X-Token", "header", "Access token, as a header"),
    )

    user: str | None = None

    async def authenticate(self, scope: MutableMapping[str, Any]) -> bool:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [None])[0] or _header(scope, b"x-token")
        if not token:
            return await self._deny(401, "Unauthorized", "missing token")
        user = TOKENS.get(token)
        if user is None:
            return await self._deny(403, "Forbidden", "bad token")
        self.user = user
        self.status_code = 200
        await self.send_message(
            AuthenticationMessage(
                payload=AuthenticationPayload(
                    status_code=200, status_text="OK", data={"user": user}
                )
            )
        )
        return True

    async def _deny(self, status: int, text: str, detail: str) -> bool:
        """Sends the failed ``authentication`` frame; the consumer closes with 4000 + status."""
        self.status_code = status
        await self.send_message(
            AuthenticationMessage(
                payload=AuthenticationPayload(
                    status_code=status, status_text=text, data={"detail": detail}
                )
            )
        )
        return False


# --- the consumer -------------------------------------------------------------------------------


@channel(name="parity", description="Everything the parity test compares")
class ParityConsumer(AsyncJsonWebsocketConsumer[Announcement]):
    """Serves ``/ws/parity/{room}``."""

    channel_layer_alias = "parity"
    authenticator_class = TokenAuthenticator
    emits = [Welcome]

    @property
    def room(self) -> str:
        """The room in the connection's path."""
        return str(self.url_params["room"])

    @property
    def room_group(self) -> str:
        """The room's channel-layer group: ``parity.<room>``."""
        return safe_group_name(self.room, namespace="parity")

    async def post_authentication(self) -> None:
        """Joins the room and greets the user."""
        await self.join_group(self.room_group)
        user = self.authenticator.user if self.authenticator else None
        await self.send_message(
            Welcome(payload=WelcomePayload(user=user or "?", room=self.room))
        )

    @ws_handler(summary="Ping", description="Connectivity check")
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler(summary="Echo")
    async def handle_echo(self, message: EchoMessage) -> EchoReply:
        payload = message.payload
        text = " ".join([payload.text] * payload.times)
        return EchoReply(payload=EchoPayload(text=text, times=payload.times))

    @ws_handler(summary="Register a profile")
    async def handle_register(self, message: RegisterMessage) -> Registered:
        return Registered(payload=message.payload)

    @ws_handler(summary="Count down", output_type=Tick)
    async def handle_countdown(self, message: CountdownMessage) -> None:
        # Frames sent by the handler itself carry the request's `ref` as well.
        for n in range(message.payload.start, 0, -1):
            await self.send_message(Tick(payload=TickPayload(n=n)))

    @ws_handler(summary="Say to the room", output_type=Said)
    async def handle_say(self, message: SayMessage) -> None:
        user = self.authenticator.user if self.authenticator else None
        said = Said(
            payload=SaidPayload(room=self.room, sender=user or "?", text=message.payload.text)
        )
        await self.broadcast_message(said, [self.room_group])

    @ws_handler(summary="Announce through the channel layer")
    async def handle_announce(self, message: AnnounceMessage) -> None:
        await ParityConsumer.broadcast_event(
            Announcement(payload=message.payload), self.room_group
        )

    @ws_handler(summary="Fail")
    async def handle_explode(self, message: ExplodeMessage) -> None:
        raise RuntimeError("boom")

    @event_handler(summary="Announcement", description="Forwarded to the client")
    async def handle_announcement(self, event: Announcement) -> Announcement:
        return event


app = FastAPI(title="Parity", version="1.0.0")
app.router.add_websocket_route("/ws/parity/{room}", ParityConsumer.as_asgi())
