<?php
// PHP's Memcached extension (libmemcached): setMulti, then one getMulti of
// NKEYS keys of KEYLEN bytes, every EVERY-th one stored. Prints JSON.
// Usage: php get_multi.php PORT NKEYS KEYLEN EVERY
[$port, $n, $len, $every] = array_map('intval', array_slice($argv, 1, 4));
$m = new Memcached();
$m->addServer('127.0.0.1', $port);
$m->setOption(Memcached::OPT_RECV_TIMEOUT, 30000);
$m->setOption(Memcached::OPT_SEND_TIMEOUT, 30000);
$keys = [];
$stored = [];
for ($i = 0; $i < $n; $i++) {
  $k = str_pad("php$i:", $len, 'x');
  $keys[] = $k;
  if ($i % $every == 0) $stored[$k] = "v$i";
}
$setOk = $m->setMulti($stored);
$got = $m->getMulti($keys);
$wrong = 0;
if ($got !== false) foreach ($stored as $k => $v) if (($got[$k] ?? null) !== $v) $wrong++;
echo json_encode([
  'set' => $setOk,
  'hits' => $got === false ? -1 : count($got),
  'error' => $got === false ? $m->getResultMessage() : null,
  'stored' => count($stored),
  'wrong' => $wrong,
]), "\n";
