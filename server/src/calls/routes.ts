import {
  CallParams,
  CallResponse,
  IceServersResponse,
  OkResponse,
  RingCallRequest,
  SignalRequest,
  StartCallRequest,
  TransferCallRequest,
} from '../../../shared/index.js';
import type { Services } from '../context.js';
import { route } from '../http/route.js';
import type { CallAction } from './rules.js';

export function callRoutes({ calls }: Services) {
  /** Accept, decline, hang up; and (issue 18, call-state.ts, not for meeting guests) join, hold, resume. */
  const action = (verb: CallAction | 'join' | 'hold' | 'resume', summary: string) => {
    const state = verb === 'join' || verb === 'hold' || verb === 'resume';
    return route({
      method: 'post',
      path: `/api/v1/calls/:id/${verb}`,
      tag: 'calls',
      summary,
      access: 'user',
      // An admitted meeting guest calls in its meeting's chat only (transitions.ts checks the chat and the call's members).
      guests: !state,
      params: CallParams,
      response: CallResponse,
      ...(state ? { errors: [403, 409] } : {}),
      async handler({ params, session: { user } }) {
        if (verb === 'join') return { call: await calls.join(user, params.id) };
        if (verb === 'hold' || verb === 'resume') return { call: await calls.hold(user, params.id, verb === 'hold') };
        return { call: await calls.act(user, params.id, verb) };
      },
    });
  };

  return [
    // Before /calls/:id, which would take "ice-servers" for an id.
    route({
      method: 'get',
      path: '/api/v1/calls/ice-servers',
      tag: 'calls',
      summary: 'STUN/TURN servers with short-lived TURN credentials, and the media path policy of this site',
      access: 'user',
      // An admitted meeting guest calls in its meeting's chat only (transitions.ts checks the chat and the call's members).
      guests: true,
      response: IceServersResponse,
      async handler({ session: { user } }) {
        return calls.iceServers(user);
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/calls',
      tag: 'calls',
      summary: "Call a chat: rings its other members who are online (409 callee_offline / callee_busy when nobody can answer)",
      access: 'user',
      // An admitted meeting guest calls in its meeting's chat only (transitions.ts checks the chat and the call's members).
      guests: true,
      body: StartCallRequest,
      response: CallResponse,
      status: 201,
      async handler({ body, session: { user } }) {
        return { call: await calls.start(user, body.chatId, body.video) };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/calls/:id',
      tag: 'calls',
      summary: 'One call (members only)',
      access: 'user',
      // An admitted meeting guest calls in its meeting's chat only (transitions.ts checks the chat and the call's members).
      guests: true,
      params: CallParams,
      response: CallResponse,
      async handler({ params, session: { user } }) {
        return { call: await calls.view(user, params.id) };
      },
    }),
    action('accept', 'Answer a ringing call'),
    action('decline', 'Decline a ringing call'),
    action('hangup', 'Leave the call (the caller cancels a ringing one); a 1:1 call ends for both'),
    action('join', "Join, or rejoin, a call running in a chat you take part in (409 when it has ended, is full, on hold or being transferred)"),
    action('hold', 'Put a call of two on hold: call.held to both, media pauses, messages sent in its chat are held until it resumes'),
    action('resume', 'Resume a call you put on hold: call.resumed to both, the held messages are delivered'),
    route({
      method: 'post',
      path: '/api/v1/calls/:id/transfer',
      tag: 'calls',
      summary:
        'Transfer a call of two to a colleague: it goes on hold and they are rung with who transfers and why; on answer they take your place (and the chat), on decline or time-out the call comes back to you',
      access: 'user',
      params: CallParams,
      body: TransferCallRequest,
      response: CallResponse,
      errors: [409],
      async handler({ params, body, session: { user } }) {
        return { call: await calls.transfer(user, params.id, body.to, body.reason || undefined, body.warm === true) };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/calls/:id/ring',
      tag: 'calls',
      summary:
        "Ring members of the call's chat into the running call (a member in the call; 400 for a name not taking part in the chat, 409 when it has ended, is on hold, being transferred or full, or nobody named could be rung)",
      access: 'user',
      params: CallParams,
      body: RingCallRequest,
      response: CallResponse,
      errors: [403, 409],
      async handler({ params, body, session: { user } }) {
        return { call: await calls.ring(user, params.id, body.usernames) };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/calls/:id/signal',
      tag: 'calls',
      summary: 'WebRTC signalling (offer, answer, ICE candidate, media path) to one other member, as their call.signal event',
      access: 'user',
      // An admitted meeting guest calls in its meeting's chat only (transitions.ts checks the chat and the call's members).
      guests: true,
      params: CallParams,
      body: SignalRequest,
      response: OkResponse,
      async handler({ params, body, session: { user } }) {
        await calls.signal(user, params.id, body.to, body.signal);
        return { ok: true as const };
      },
    }),
  ];
}
