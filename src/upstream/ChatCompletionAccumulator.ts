import { GatewayError } from '../errors.js';

/** Upper bound of the text one streamed completion may accumulate (content and tool-call arguments). */
export const MAX_ACCUMULATED_CHARS = 4 * 1024 * 1024;
const MAX_CHOICES = 16;
const MAX_TOOL_CALLS = 64;

interface ToolCallState {
  id?: string;
  type?: string;
  name?: string;
  arguments: string;
}

interface ChoiceState {
  role: string;
  content: string;
  finishReason: string | null;
  toolCalls: Map<number, ToolCallState>;
}

/**
 * Folds `chat.completion.chunk` objects into the `chat.completion` a non-streaming call would have
 * returned: what the WebSocket `chat.completions` method answers after its `chat.delta` notifications.
 */
export class ChatCompletionAccumulator {
  private id: string | undefined;
  private model: string | undefined;
  private created: number | undefined;
  private usage: unknown;
  private readonly choices = new Map<number, ChoiceState>();
  private chars = 0;

  add(chunk: Record<string, unknown>): void {
    if (typeof chunk.id === 'string') this.id ??= chunk.id;
    if (typeof chunk.model === 'string') this.model ??= chunk.model;
    if (typeof chunk.created === 'number') this.created ??= chunk.created;
    if (chunk.usage) this.usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const raw of chunk.choices as unknown[]) {
      if (!isRecord(raw)) continue;
      const index = typeof raw.index === 'number' ? raw.index : 0;
      const choice = this.choice(index);
      if (!choice) continue;
      if (typeof raw.finish_reason === 'string') choice.finishReason = raw.finish_reason;
      const delta = isRecord(raw.delta) ? raw.delta : {};
      if (typeof delta.role === 'string') choice.role = delta.role;
      if (typeof delta.content === 'string') choice.content += this.count(delta.content);
      if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls as unknown[]) this.addToolCall(choice, call);
    }
  }

  result(): Record<string, unknown> {
    const choices = [...this.choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, choice]) => {
        const message: Record<string, unknown> = { role: choice.role, content: choice.content };
        if (choice.toolCalls.size > 0) {
          message.tool_calls = [...choice.toolCalls.entries()]
            .sort(([a], [b]) => a - b)
            .map(([, call]) => ({
              id: call.id,
              type: call.type ?? 'function',
              function: { name: call.name, arguments: call.arguments },
            }));
        }
        return { index, message, finish_reason: choice.finishReason };
      });
    const completion: Record<string, unknown> = {
      id: this.id,
      object: 'chat.completion',
      created: this.created ?? Math.floor(Date.now() / 1000),
      model: this.model,
      choices,
    };
    if (this.usage !== undefined) completion.usage = this.usage;
    return completion;
  }

  private choice(index: number): ChoiceState | undefined {
    let choice = this.choices.get(index);
    if (!choice && this.choices.size < MAX_CHOICES) {
      choice = { role: 'assistant', content: '', finishReason: null, toolCalls: new Map() };
      this.choices.set(index, choice);
    }
    return choice;
  }

  private addToolCall(choice: ChoiceState, raw: unknown): void {
    if (!isRecord(raw)) return;
    const index = typeof raw.index === 'number' ? raw.index : 0;
    let call = choice.toolCalls.get(index);
    if (!call) {
      if (choice.toolCalls.size >= MAX_TOOL_CALLS) return;
      call = { arguments: '' };
      choice.toolCalls.set(index, call);
    }
    if (typeof raw.id === 'string') call.id = raw.id;
    if (typeof raw.type === 'string') call.type = raw.type;
    const fn = isRecord(raw.function) ? raw.function : {};
    if (typeof fn.name === 'string') call.name = (call.name ?? '') + this.count(fn.name);
    if (typeof fn.arguments === 'string') call.arguments += this.count(fn.arguments);
  }

  private count(text: string): string {
    this.chars += text.length;
    if (this.chars > MAX_ACCUMULATED_CHARS) throw new GatewayError('upstream_error', 'The upstream answer is too large.');
    return text;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
