// The seed's task definition example, on the babysitter SDK's real API: defineTask(id, impl)
// returns an agent task addressed to throughput-optimization-expert; `tpx task --watch`
// answers it and posts the report, which becomes the process's output.
//
//   npm install --save-exact @a5c-ai/babysitter-sdk@0.0.187
//   npx babysitter run:create --process-id optimize-throughput \
//     --entry examples/babysitter/seed-task.mjs#process \
//     --inputs examples/babysitter/seed-inputs.json --json
//   npx babysitter run:iterate .a5c/runs/<runId> --json   # "waiting": an agent task is pending
//   tpx task --watch --once                               # answers it, babysitter task:post
//   npx babysitter run:iterate .a5c/runs/<runId> --json   # "completed"
import { defineTask } from '@a5c-ai/babysitter-sdk';

export const optimizeThroughputTask = defineTask(
  'optimize-throughput',
  (inputs, taskCtx) => ({
    kind: 'agent',
    title: `Optimize throughput: ${inputs.service}`,
    description: 'Optimize system throughput with expert guidance',
    agent: {
      name: 'throughput-optimization-expert',
      prompt: {
        role: 'Throughput Engineering Specialist',
        task: 'Maximize system throughput',
        context: {
          service: inputs.service,
          currentMetrics: inputs.metrics,
          architecture: inputs.architecture,
          targetThroughput: inputs.target,
        },
        instructions: [
          'Analyze current throughput',
          'Identify bottlenecks',
          'Recommend optimizations',
          'Design scaling strategy',
        ],
        outputFormat: 'JSON',
      },
    },
    // hints only: the SDK writes tasks/<effectId>/task.json and owns result.json
    io: {
      inputJsonPath: `tasks/${taskCtx.effectId}/input.json`,
      outputJsonPath: `tasks/${taskCtx.effectId}/result.json`,
    },
  }),
  { description: 'Optimize system throughput with expert guidance' },
);

export async function process(inputs, ctx) {
  const report = await ctx.task(optimizeThroughputTask, inputs);
  return { service: inputs.service, report };
}
