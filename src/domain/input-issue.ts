/** One thing wrong with one input line. `field` is a path such as "params.messages[0].role". */
export interface InputIssue {
  line: number;
  field?: string;
  reason: string;
}
