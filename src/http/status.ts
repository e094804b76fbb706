/**
 * Reason phrases for the status codes registered by RFC 9110 §15 and the RFCs that extend the
 * registry (listed beside each). A reason phrase is advisory only: RFC 9112 §4 ¶5 says a client
 * SHOULD ignore it, and allows it to be empty.
 */

/** Registered status code → reason phrase. Unused codes (306, 418) and unregistered ones are absent. */
export const STATUS_REASONS: Readonly<Record<number, string>> = Object.freeze({
  // RFC 9110 §15.2 Informational
  100: 'Continue',
  101: 'Switching Protocols',
  103: 'Early Hints', // RFC 8297
  // RFC 9110 §15.3 Successful
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status', // RFC 4918
  208: 'Already Reported', // RFC 5842
  226: 'IM Used', // RFC 3229
  // RFC 9110 §15.4 Redirection
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  // RFC 9110 §15.5 Client Error
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked', // RFC 4918
  424: 'Failed Dependency', // RFC 4918
  426: 'Upgrade Required',
  428: 'Precondition Required', // RFC 6585
  429: 'Too Many Requests', // RFC 6585
  431: 'Request Header Fields Too Large', // RFC 6585
  // RFC 9110 §15.6 Server Error
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  507: 'Insufficient Storage', // RFC 4918
  508: 'Loop Detected', // RFC 5842
  511: 'Network Authentication Required', // RFC 6585
});

/**
 * The reason phrase for `status`, or `''` for a code with no registered phrase. An empty phrase
 * is valid on the wire (`HTTP/1.1 599 \r\n`, RFC 9112 §4: `reason-phrase` is optional but the SP
 * before it is not).
 */
export function reasonPhrase(status: number): string {
  return STATUS_REASONS[status] ?? '';
}
