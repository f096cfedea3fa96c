// The seed's generic call: ctx.task(task, {agentName, prompt}). The SDK stores those arguments
// under `inputs` in tasks/<effectId>/task.json; `tpx task --watch` serves every such task whose
// agentName is throughput-optimization-expert and posts the answer (or, when it cannot answer,
// an error with its one-line reason: the run then fails instead of waiting).
//
//   npx babysitter run:create --process-id ask-throughput-expert \
//     --entry examples/babysitter/generic-agent.mjs#process \
//     --inputs examples/babysitter/task.json --json
import { defineTask } from '@a5c-ai/babysitter-sdk';

export const agentTask = defineTask('agent-task', (args) => ({
  kind: 'agent',
  title: `${args.agentName}: ${args.prompt.task}`,
}));

export async function process(inputs, ctx) {
  const answer = await ctx.task(agentTask, {
    agentName: inputs.agentName ?? 'throughput-optimization-expert',
    prompt: inputs.prompt,
  });
  return { answer };
}
