# Perl's Cache::Memcached::Fast: set, then one get_multi of NKEYS keys of
# KEYLEN bytes, every EVERY-th one stored. Prints JSON.
# Usage: perl get_multi.pl PORT NKEYS KEYLEN EVERY
use strict;
use warnings;
use Cache::Memcached::Fast;
my ($port, $n, $len, $every) = @ARGV;
my $m = Cache::Memcached::Fast->new({ servers => ["127.0.0.1:$port"], io_timeout => 30 });
my (@keys, %stored);
for my $i (0 .. $n - 1) {
  my $k = "perl$i:";
  $k .= 'y' x ($len - length $k);
  push @keys, $k;
  $stored{$k} = "v$i" if $i % $every == 0;
}
my $failed = 0;
while (my ($k, $v) = each %stored) { $failed++ unless $m->set($k, $v); }
my $got = $m->get_multi(@keys);
my $wrong = grep { !defined $got->{$_} || $got->{$_} ne $stored{$_} } keys %stored;
printf "{\"failed_sets\":%d,\"hits\":%d,\"stored\":%d,\"wrong\":%d}\n", $failed, scalar(keys %$got), scalar(keys %stored), $wrong;
